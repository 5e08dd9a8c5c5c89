package seed

import (
	"hash/fnv"
	"strconv"
)

// phoneNumberID derives the id of a number that the seed gives none: 11 digits, never a
// leading 0, like the numeric phone-number ids Meta hands out. It is a hash of the space and
// the number, not a counter or a random value, so the same seed gives the same id at every
// start and ApplySeed finds the number it created before. The NUL between the two keeps
// ("12", "345") and ("123", "45") apart.
func phoneNumberID(custSpaceID, number string) string {
	h := fnv.New64a()
	h.Write([]byte(custSpaceID))
	h.Write([]byte{0})
	h.Write([]byte(number))
	const lo, span = 10_000_000_000, 90_000_000_000 // [10^10, 10^11): 11 digits
	return strconv.FormatUint(lo+h.Sum64()%span, 10)
}

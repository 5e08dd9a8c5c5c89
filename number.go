package camsd

import (
	"crypto/rand"
	"math/big"
	"strconv"
	"time"
)

// NumberStatus is where a phone number stands in a space.
type NumberStatus string

const (
	// The migration flow: a number migrating into the space, registered (connected) here, or
	// gone to another space.
	StatusMigrating NumberStatus = "MIGRATING"
	StatusConnected NumberStatus = "CONNECTED"
	StatusMigrated  NumberStatus = "MIGRATED"

	// A new number's lifecycle: added and not yet verified; verified (a pre-validated number)
	// and not yet registered; registered (CONNECTED); taken off WhatsApp (deregistered).
	StatusUnverified   NumberStatus = "UNVERIFIED"
	StatusVerified     NumberStatus = "VERIFIED"
	StatusDisconnected NumberStatus = "DISCONNECTED"
)

// NumberStatuses are every status a number can have, in the order of a number's life.
var NumberStatuses = []NumberStatus{
	StatusUnverified, StatusVerified, StatusMigrating, StatusConnected, StatusDisconnected, StatusMigrated,
}

// PhoneNumber is a WhatsApp phone number in a space. Number is country code plus national
// number, digits only; ID is the phone number's id (Meta's phone-number id behind CAMS).
type PhoneNumber struct {
	CustSpaceID string
	Number      string
	ID          string
	Status      NumberStatus

	// VerifiedName is the display name the number was added with (AddChatappPhoneNumber);
	// empty for migrated and seeded numbers that were given none.
	VerifiedName string

	// InitiatedAt is when the number's current migration into the space began (zero for a
	// number that was seeded): codes sent before it belong to an earlier migration.
	InitiatedAt time.Time
	// VerifiedAt is when a code was last verified for the number in the space; zero when it
	// was never verified or its verification ended (the number moved to another space).
	VerifiedAt time.Time
}

// NewNumberID returns a new phone-number id: 15 decimal digits, the first not 0, like Meta's
// phone-number ids. It comes from crypto/rand, not a counter: a counter would let a tenant
// guess other tenants' ids and tell from two of its own how many numbers were added in
// between. Two ids collide with odds of about 1 in 9*10^14 per pair.
func NewNumberID() (string, error) {
	const lo, span = 100_000_000_000_000, 900_000_000_000_000 // [10^14, 10^15): 15 digits
	n, err := rand.Int(rand.Reader, big.NewInt(span))
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(lo+n.Int64(), 10), nil
}

// DeliveryStatus is what became of a code handed to a Provider.
type DeliveryStatus string

const (
	DeliveryPending DeliveryStatus = "pending" // recorded, handed to the provider, no answer yet
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed"
)

// VerifyCode is one verification code sent (or being sent) to a number.
type VerifyCode struct {
	CustSpaceID string
	PhoneNumber string
	Code        string
	Method      string // "sms" or "voice", lower case
	Locale      string
	SentAt      time.Time
	ExpiresAt   time.Time
	RequestID   string // the API request that asked for it
	AccessKeyID string // who asked
	Status      DeliveryStatus

	Attempts int       // wrong values checked against the code
	UsedAt   time.Time // when the code was verified; zero while it is not
}

// CodeMessage is what a Provider delivers.
type CodeMessage struct {
	PhoneNumber string
	Method      string // "sms" or "voice"
	Locale      string
	Code        string
}

// Message is a code message captured by the simulated provider.
type Message struct {
	PhoneNumber string
	Method      string
	Locale      string
	Code        string
	Text        string
	CreatedAt   time.Time
}

// PreValidatedNumber is a number an account bought pre-validated: its seller gave the
// account the number's verification code, and GetPreValidatePhoneId trades the two for ID,
// which AddChatappPhoneNumber takes as PreValidateId to add the number already verified.
type PreValidatedNumber struct {
	UID        string
	Number     string
	VerifyCode string // 6 digits
	ID         string // not guessable; the store makes it when the seed gives none
}

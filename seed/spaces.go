package seed

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/camsd/camsd"
)

// activeNumber is where a number is in a status other than MIGRATED.
type activeNumber struct {
	path, custSpaceID string
	status            camsd.NumberStatus
}

func (b *builder) space(r *rawSpace, path, uid string) (camsd.SeedSpace, error) {
	sp := camsd.SeedSpace{Space: camsd.Space{CustSpaceID: string(r.CustSpaceID), UID: uid, Name: string(r.Name),
		WabaID: string(r.WabaID), Pin: string(r.Pin)}}
	if p := claim(b.spaces, path+".cust_space_id", sp.CustSpaceID, identifier, "cust_space_id", "a cust_space_id is letters, digits, '.', '_' and '-'"); p != nil {
		return sp, p
	}
	if sp.WabaID != "" && !digits(sp.WabaID) {
		return sp, &problem{path: path + ".waba_id", msg: fmt.Sprintf("%q: a WhatsApp Business Account id is digits", sp.WabaID)}
	}
	if sp.Pin != "" && (len(sp.Pin) != 6 || !digits(sp.Pin)) {
		return sp, &problem{path: path + ".pin", msg: "a registration PIN is 6 digits"}
	}

	numbers := make(map[string]string)
	for i := range r.PhoneNumbers {
		numPath := index(path+".phone_numbers", i)
		n, err := b.phoneNumber(&r.PhoneNumbers[i], numPath, sp.CustSpaceID)
		if err != nil {
			return sp, err
		}
		if first, dup := numbers[n.Number]; dup {
			return sp, &problem{path: numPath + ".phone_number", msg: fmt.Sprintf("duplicate number %s in this space", n.Number), first: first}
		}
		numbers[n.Number] = numPath + ".phone_number"
		sp.PhoneNumbers = append(sp.PhoneNumbers, n)
	}
	return sp, nil
}

func (b *builder) phoneNumber(r *rawNumber, path, custSpaceID string) (camsd.PhoneNumber, error) {
	n := camsd.PhoneNumber{
		CustSpaceID:  custSpaceID,
		Number:       string(r.PhoneNumber),
		ID:           string(r.ID),
		Status:       camsd.NumberStatus(r.Status),
		VerifiedName: string(r.VerifiedName),
	}
	numberPath := path + ".phone_number"
	switch {
	case n.Number == "":
		return n, &problem{path: numberPath, msg: "missing"}
	case !camsd.ValidPhoneNumber(n.Number):
		return n, &problem{path: numberPath, msg: fmt.Sprintf("%q: want country code and number, 8 to 15 digits, no '+' or leading 0", n.Number)}
	}

	switch {
	case n.ID == "":
		n.ID = phoneNumberID(custSpaceID, n.Number)
	case !digits(n.ID):
		return n, &problem{path: path + ".id", msg: fmt.Sprintf("%q: a phone number id is digits", n.ID)}
	}

	if msg := checkVerifiedName(n.VerifiedName); msg != "" {
		return n, &problem{path: path + ".verified_name", msg: msg}
	}

	switch {
	case n.Status == "":
		n.Status = camsd.StatusMigrating
	case !slices.Contains(camsd.NumberStatuses, n.Status):
		return n, &problem{path: path + ".status", msg: fmt.Sprintf("%q: want %s", n.Status, statusList())}
	}
	// A number can have moved out of many spaces (MIGRATED) but be anywhere else in its life
	// (added, verified, migrating, connected, deregistered) in one space only: that is the
	// space the API calls act on.
	if n.Status != camsd.StatusMigrated {
		if first, dup := b.active[n.Number]; dup {
			msg := fmt.Sprintf("%s is %s here and %s in space %q; a number is in one space at most in a status other than MIGRATED",
				n.Number, n.Status, first.status, first.custSpaceID)
			return n, &problem{path: numberPath, msg: msg, first: first.path}
		}
		b.active[n.Number] = activeNumber{path: numberPath, custSpaceID: custSpaceID, status: n.Status}
	}
	return n, nil
}

// statusList names the statuses a seeded number may have, for messages: "UNVERIFIED, ...,
// DISCONNECTED or MIGRATED".
func statusList() string {
	names := make([]string, len(camsd.NumberStatuses))
	for i, st := range camsd.NumberStatuses {
		names[i] = string(st)
	}
	last := len(names) - 1
	return strings.Join(names[:last], ", ") + " or " + names[last]
}

// checkVerifiedName says what is wrong with a number's display name, or "" when nothing is
// (an empty one is none): the rule AddChatappPhoneNumber holds a name to.
func checkVerifiedName(name string) string {
	p := camsd.VerifiedNameProblem(name)
	if p == "" || utf8.RuneCountInString(name) > camsd.MaxVerifiedName {
		return p // a name too long is not repeated
	}
	return fmt.Sprintf("%q: %s", name, p)
}

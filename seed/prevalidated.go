package seed

import (
	"fmt"

	"github.com/camsd/camsd"
)

// preValidated checks the numbers an account bought pre-validated. A number is pre-validated
// for one account, so it is listed once in the whole file; an id, when given, names one
// number, since AddChatappPhoneNumber finds the number by it. A number without an id gets one
// from the store when it is new (camsd.NewNumberID): unlike a space's numbers, whose ids are
// derived from the file, a pre-validated number's id is what its owner trades the code for,
// so it must not be guessable.
func (b *builder) preValidated(rs []rawPreValidated, path, uid string) ([]camsd.PreValidatedNumber, error) {
	var out []camsd.PreValidatedNumber
	for i, r := range rs {
		p := index(path, i)
		n := camsd.PreValidatedNumber{UID: uid, Number: string(r.PhoneNumber), VerifyCode: string(r.VerifyCode), ID: string(r.ID)}
		if err := claim(b.preNumbers, p+".phone_number", n.Number, camsd.ValidPhoneNumber, "pre-validated number",
			"want country code and number, 8 to 15 digits, no '+' or leading 0"); err != nil {
			return nil, err
		}
		switch {
		case n.VerifyCode == "":
			return nil, &problem{path: p + ".verify_code", msg: "missing"}
		case len(n.VerifyCode) != 6 || !digits(n.VerifyCode):
			return nil, &problem{path: p + ".verify_code", msg: fmt.Sprintf("%q: a verification code is 6 digits", n.VerifyCode)}
		}
		if n.ID != "" {
			if err := claim(b.preIDs, p+".id", n.ID, digits, "pre-validated number id", "a phone number id is digits"); err != nil {
				return nil, err
			}
		}
		out = append(out, n)
	}
	return out, nil
}

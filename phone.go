package camsd

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidPhoneNumber reports whether s is a phone number as CAMS takes it: country code and
// national number, 8 to 15 digits (E.164 allows at most 15), no leading 0, no "+".
func ValidPhoneNumber(s string) bool {
	if len(s) < 8 || len(s) > 15 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaxVerifiedName is the longest display name of a number, in characters.
const MaxVerifiedName = 128

// VerifiedNameProblem says what is wrong with a number's display name (VerifiedName), or ""
// when nothing is: at most MaxVerifiedName characters, one line, no leading or trailing
// spaces. The API trims the spaces a caller sends; a seed file must not have them.
func VerifiedNameProblem(name string) string {
	switch {
	case utf8.RuneCountInString(name) > MaxVerifiedName:
		return fmt.Sprintf("a verified name is at most %d characters", MaxVerifiedName)
	case strings.TrimSpace(name) != name:
		return "a verified name does not begin or end with spaces"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "a verified name is one line, without control characters"
	}
	return ""
}

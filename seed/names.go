package seed

import (
	"fmt"
	"strconv"
)

// index is the path of element i of the list at path, as in accounts[0].
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// identifier reports whether s is made of ASCII letters, digits, '.', '_' and '-'. AccessKey
// ids travel unencoded in the Authorization header (Credential=<id>,SignedHeaders=...), where
// a comma, space or '=' would change the meaning. Space ids follow the same rule: real ones
// are digits, and anything stranger is more likely a typo than an id.
func identifier(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return s != ""
}

// checkUserName applies RAM's rule for user names: 1 to 64 letters, digits, '.', '_' and '-'.
// The name appears in AccessDeniedDetail, so it must be one RAM could have issued.
func checkUserName(name string) string {
	switch {
	case name == "":
		return "missing"
	case len(name) > 64 || !identifier(name):
		return fmt.Sprintf("%q: a RAM user name is 1 to 64 letters, digits, '.', '_' and '-'", name)
	}
	return ""
}

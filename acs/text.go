package acs

import (
	"net/url"
	"unicode/utf8"

	"github.com/camsd/camsd"
)

// Bounds of what a request may carry. No store ever sees a value past them, or a value that
// is not UTF-8 or holds NUL: PostgreSQL refuses such text (failing the query), SQLite keeps it
// (finding nothing), and camsd answers the same on every store only because they are refused
// here first.
const (
	// MaxParamLen bounds a parameter's value. CAMS values are short: ids, numbers, codes.
	MaxParamLen = 4096
	// maxParamNameLen bounds a parameter's name.
	maxParamNameLen = 128
	// maxAccessKeyIDLen bounds an AccessKey id; real ones are 24 bytes or so.
	maxAccessKeyIDLen = 128
)

// validToken reports whether s is a protocol token: 1 to max bytes of UTF-8 without ASCII
// control characters. AccessKey ids and nonces are tokens.
func validToken(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// validAccessKeyID reports whether id can name an AccessKey. Any other id is not found, as
// an unknown key is, without asking the store.
func validAccessKeyID(id string) bool { return validToken(id, maxAccessKeyIDLen) }

// validText reports whether s is a parameter's text: at most maxLen bytes of UTF-8 without
// NUL. Other control characters are let through: stores hold them, and the rules of the
// parameter refuse them where they do not belong.
func validText(s string, maxLen int) bool {
	if len(s) > maxLen || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}

// CheckParams answers InvalidParameter when a parameter's name or one of its values is not
// UTF-8, holds NUL or is too long (a value more than MaxParamLen bytes, a name more than 128).
// Of several such parameters it names the first by name in byte order, so that the answer
// does not depend on map order; the message names a parameter only when its name is valid
// and never quotes a value, so that it is valid UTF-8 whatever was sent. It looks at every
// parameter the request carries, whichever the action, protocol parameters included.
func CheckParams(p url.Values) error {
	bad, badName, found := "", false, false
	for k, vs := range p {
		nameOK := validText(k, maxParamNameLen)
		if nameOK && validValues(vs) {
			continue
		}
		// A bad name comes before every good one (its message cannot name it anyway), then
		// byte order.
		if !found || !nameOK != badName && !nameOK || !nameOK == badName && k < bad {
			bad, badName, found = k, !nameOK, true
		}
	}
	switch {
	case !found:
		return nil
	case badName:
		return camsd.Errorf(camsd.CodeInvalidParameter,
			"A parameter name is not valid: names must be UTF-8 without NUL, at most %d bytes.", maxParamNameLen)
	}
	for _, v := range p[bad] {
		if len(v) > MaxParamLen {
			return camsd.Errorf(camsd.CodeInvalidParameter,
				"The specified parameter %q is not valid: it is longer than %d bytes.", bad, MaxParamLen)
		}
	}
	return camsd.Errorf(camsd.CodeInvalidParameter,
		"The specified parameter %q is not valid: it is not UTF-8 text or it contains a NUL byte.", bad)
}

func validValues(vs []string) bool {
	for _, v := range vs {
		if !validText(v, MaxParamLen) {
			return false
		}
	}
	return true
}

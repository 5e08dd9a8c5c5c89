package postgres

import "unicode/utf8"

// maxText bounds the text a read or a change of a number looks up. camsd's ids, numbers and
// keys are far shorter; the protocol layer refuses longer values before any store sees them.
const maxText = 256

// validText reports whether s can be a key this store holds: valid UTF-8 without NUL (which
// PostgreSQL refuses in text, failing the query rather than finding nothing) and at most
// maxText bytes. A read given anything else finds nothing, as on every store, rather than
// fail; the protocol layer refuses such values first, so this is the store's own guard.
func validText(s string) bool {
	return len(s) <= maxText && utf8.ValidString(s) && !containsNUL(s)
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

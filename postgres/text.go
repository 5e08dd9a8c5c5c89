package postgres

import (
	"strings"
	"unicode/utf8"
)

// maxText bounds the text a read or a change of a number looks up. camsd's ids, numbers and
// keys are far shorter; the protocol layer refuses longer values before any store sees them.
const maxText = 256

// validText reports whether s can be a key this store holds: valid UTF-8 without NUL (which
// PostgreSQL refuses in text, failing the query rather than finding nothing) and at most
// maxText bytes. A read given anything else finds nothing, as on every store, rather than
// fail; the protocol layer refuses such values first, so this is the store's own guard.
func validText(s string) bool {
	return len(s) <= maxText && strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

package sqlite

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// nonceLog gathers the nonces that the writer applies from its journal, so that they are
// written as one row of nonce_log when it commits (see 0004_nonce_log.sql). Only the
// writer's goroutine touches it.
type nonceLog struct {
	entries []byte
	expires int64 // the latest expiry in entries
}

// add appends one nonce as a line "<hex AccessKey id> <hex nonce> <expiry>". Hex keeps any
// byte of a nonce, spaces and newlines included, out of the line's syntax.
func (l *nonceLog) add(akid, nonce string, exp int64) {
	l.entries = hex.AppendEncode(l.entries, []byte(akid))
	l.entries = append(l.entries, ' ')
	l.entries = hex.AppendEncode(l.entries, []byte(nonce))
	l.entries = append(l.entries, ' ')
	l.entries = strconv.AppendInt(l.entries, exp, 10)
	l.entries = append(l.entries, '\n')
	l.expires = max(l.expires, exp)
}

// flush writes the gathered nonces as one row inside tx, if there are any, and empties l.
func (l *nonceLog) flush(tx *wtx) error {
	if len(l.entries) == 0 {
		return nil
	}
	_, err := tx.exec(`INSERT INTO nonce_log (expires_at, entries) VALUES (?, ?)`, l.expires, string(l.entries))
	l.reset()
	return err
}

// reset forgets the gathered nonces: their transaction did not commit.
func (l *nonceLog) reset() {
	l.entries, l.expires = l.entries[:0], 0
}

var errNonceEntry = errors.New("malformed nonce_log entry")

// parseNonceEntries calls fn with each nonce of a nonce_log row's entries.
func parseNonceEntries(entries string, fn func(akid, nonce string, exp int64)) error {
	b := []byte(entries)
	for len(b) > 0 {
		line, rest, ok := bytes.Cut(b, []byte{'\n'})
		if !ok {
			return fmt.Errorf("%w: no newline after %q", errNonceEntry, line)
		}
		b = rest
		f := bytes.Split(line, []byte{' '})
		if len(f) != 3 {
			return fmt.Errorf("%w: %q", errNonceEntry, line)
		}
		akid, err1 := hex.DecodeString(string(f[0]))
		nonce, err2 := hex.DecodeString(string(f[1]))
		exp, err3 := strconv.ParseInt(string(f[2]), 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return fmt.Errorf("%w: %q: %v", errNonceEntry, line, err)
		}
		fn(string(akid), string(nonce), exp)
	}
	return nil
}

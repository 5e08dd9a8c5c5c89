package acs

import "strings"

// The official clients encode with url.QueryEscape and then replace "+" by "%20", "*" by
// "%2A" and "%7E" by "~": that is RFC 3986 percent-encoding with unreserved A-Z a-z 0-9 - _ . ~
// and upper-case hex digits, which is what escape writes.

const upperHex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// writeEscaped writes s percent-encoded as RFC 3986 requires.
func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

// isUnreserved reports whether s needs no escaping.
func isUnreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return false
		}
	}
	return true
}

// clientReplacer is the substitution the Go clients apply to strings they did not encode
// (the V3 canonical URI, and V3 query keys, which darabonba leaves unencoded).
var clientReplacer = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~")

// clientReplace is clientReplacer.Replace, without the copy that strings.Replacer makes of a
// string it leaves as it is (most query keys and paths).
func clientReplace(s string) string {
	if !strings.ContainsAny(s, "+*%") {
		return s
	}
	return clientReplacer.Replace(s)
}

package ram

import (
	"unicode"
	"unicode/utf8"
)

// wildcard reports whether s matches pattern, in which * stands for any run of characters
// (also none) and ? for exactly one character; fold makes letters match regardless of case.
// RAM has no escape: a literal * or ? in a pattern is a wildcard.
//
// It backtracks only to the last *, so it runs in O(len(pattern)·len(s)) even for patterns
// like *a*a*a*b that make naive recursion exponential; policies come from tenants' seed
// files and a bad one must not stall a request.
func wildcard(pattern, s string, fold bool) bool {
	p, n := 0, 0
	starP, starN := -1, 0 // where the last * was in pattern, and where in s it began to match
	for n < len(s) {
		if p < len(pattern) {
			pc, pw := utf8.DecodeRuneInString(pattern[p:])
			sc, sw := utf8.DecodeRuneInString(s[n:])
			switch {
			case pc == '*':
				starP, starN = p, n
				p += pw
				continue
			case pc == '?' || sameRune(pc, sc, fold):
				p, n = p+pw, n+sw
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last * swallow one more character and retry from there.
		_, w := utf8.DecodeRuneInString(s[starN:])
		starN += w
		p, n = starP+1, starN
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// sameRune compares runes the way strings.EqualFold does when fold is set: through Unicode
// simple case folding, so that ? still stands for one character where lower-casing a
// string would change its length (İ lower-cases to two runes).
func sameRune(a, b rune, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

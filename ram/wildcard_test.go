package ram

import "testing"

func TestWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		fold       bool
		want       bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"*", "anything at all", false, true},
		{"**", "x", false, true},
		{"?", "", false, false},
		{"?", "é", false, true}, // one character, two bytes
		{"??", "é", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"cams:Get*", "cams:GetMigrationVerifyCode", false, true},
		{"cams:Get*", "cams:Create", false, false},
		{"*Code", "cams:GetMigrationVerifyCode", false, true},
		{"*Migration*", "cams:GetMigrationVerifyCode", false, true},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
		{"*a*b", "xaxxbyb", false, true},
		{"a*", "b", false, false},
		{"ABC", "abc", false, false},
		{"ABC", "abc", true, true},
		{"c?MS:*", "CAMS:x", true, true},
		{"k", "\u212a", true, true}, // Kelvin sign folds to k
		{"?", "İ", true, true},      // lower-cases to two runes; still one character
		{"ß", "ss", true, false},    // full case folding is not RAM's
	}
	for _, tt := range tests {
		if got := wildcard(tt.pattern, tt.s, tt.fold); got != tt.want {
			t.Errorf("wildcard(%q, %q, fold=%v) = %v, want %v", tt.pattern, tt.s, tt.fold, got, tt.want)
		}
	}
}

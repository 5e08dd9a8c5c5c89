package camsd

import "testing"

func TestValidPhoneNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"8613800001234", true},
		{"12345678", true},
		{"123456789012345", true},
		{"1234567", false},          // 7 digits
		{"1234567890123456", false}, // 16 digits
		{"08613800001234", false},   // leading 0
		{"+8613800001234", false},
		{"86 13800001234", false},
		{"861380000123a", false},
		{"", false},
	} {
		if got := ValidPhoneNumber(tc.in); got != tc.want {
			t.Errorf("ValidPhoneNumber(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalLocale(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"en_US", "en_US", true},
		{"zh_CN", "zh_CN", true},
		{"zh-cn", "zh_CN", true},
		{"ID", "id", true},
		{"xx_YY", "", false},
		{"", "", false},
	} {
		got, ok := CanonicalLocale(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CanonicalLocale(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if n := len(Locales()); n < 65 {
		t.Errorf("Locales() has %d codes, want Meta's table of about 70", n)
	}
}

package migration

import (
	"testing"

	"github.com/camsd/camsd"
)

// FuzzJoinPhoneNumber: CreateChatappMigrationInitiate's two parts of a number come from the
// caller. Whatever they are, the answer is a valid number made of exactly those parts, or
// InvalidParameter.PhoneNumberError.
func FuzzJoinPhoneNumber(f *testing.F) {
	for _, s := range [][2]string{{"86", "13800001234"}, {"1", "4155550100"}, {"086", "1"}, {"", ""}, {"8612", "3"}, {"+86", "138"}, {"62", "812-3456"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, cc, mobile string) {
		phone, err := joinNumber("CountryCode", cc, "MobileNumber", mobile)
		if err != nil {
			if camsd.ErrorCode(err) != camsd.CodeInvalidParameterPhoneNumber {
				t.Fatalf("(%q, %q): %v", cc, mobile, err)
			}
			return
		}
		if phone != cc+mobile || !camsd.ValidPhoneNumber(phone) || len(cc) < 1 || len(cc) > 3 || cc[0] == '0' {
			t.Fatalf("(%q, %q) accepted as %q", cc, mobile, phone)
		}
	})
}

// FuzzSixDigits: a VerifyCode is taken only when it is six ASCII digits.
func FuzzSixDigits(f *testing.F) {
	for _, s := range []string{"123456", "12345", "1234567", "12a456", "١٢٣٤٥٦", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		want := len(v) == 6
		for i := 0; i < len(v); i++ {
			want = want && v[i] >= '0' && v[i] <= '9'
		}
		if got := sixDigits(v); got != want {
			t.Fatalf("sixDigits(%q) = %v", v, got)
		}
	})
}

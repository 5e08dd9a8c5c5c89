package camsd

// ValidPhoneNumber reports whether s is a phone number as CAMS takes it: country code and
// national number, 8 to 15 digits (E.164 allows at most 15), no leading 0, no "+".
func ValidPhoneNumber(s string) bool {
	if len(s) < 8 || len(s) > 15 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

package migration

import (
	"net/url"
	"strings"

	"github.com/camsd/camsd"
)

// Params are an action's request parameters (query and form merged by the protocol layer).
type Params = url.Values

// requirePresent answers Missing{Name} for the first of names, in order, that is absent or
// empty. The gateway checks presence of every parameter before any value. The message is the
// catalogue's for Missing{Name}, which names the parameter.
func requirePresent(p Params, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(p.Get(n)) == "" {
			return &camsd.Error{Code: camsd.MissingCode(n)}
		}
	}
	return nil
}

// checkMethod returns the lower-case delivery method; CAMS documents "sms" and "voice" and
// its sibling API spells them in upper case, so either case is taken.
func checkMethod(v string) (string, error) {
	switch m := strings.ToLower(v); m {
	case "sms", "voice":
		return m, nil
	}
	return "", camsd.Errorf(camsd.CodeInvalidParameter, "The specified parameter \"Method\" is not valid: %q; valid values are sms and voice.", v)
}

func checkPhoneNumber(name, v string) error {
	if !camsd.ValidPhoneNumber(v) {
		return camsd.Errorf(camsd.CodeInvalidParameterPhoneNumber, "The phone number is invalid: %s must be the country code and number, 8 to 15 digits without a leading 0.", name)
	}
	return nil
}

func checkLocale(v string) (string, error) {
	l, ok := camsd.CanonicalLocale(v)
	if !ok {
		return "", camsd.Errorf(camsd.CodeInvalidParameterLanguage, "The language %q is not supported; Locale must be a WhatsApp language code such as en_US, zh_CN or id.", v)
	}
	return l, nil
}

// joinNumber checks a number given in two parts, a country code (ccName) of 1 to 3 digits
// without a leading 0 and a national number (numName) of digits, together 8 to 15 digits,
// and returns the number.
func joinNumber(ccName, cc, numName, national string) (string, error) {
	if len(cc) < 1 || len(cc) > 3 || cc[0] == '0' || !digits(cc) || !digits(national) || !camsd.ValidPhoneNumber(cc+national) {
		return "", camsd.Errorf(camsd.CodeInvalidParameterPhoneNumber, "The phone number is invalid: %s must be 1 to 3 digits without a leading 0 and %s digits, 8 to 15 digits together.", ccName, numName)
	}
	return cc + national, nil
}

// errCodeShape refuses a VerifyCode that is not 6 digits, before any try is counted.
var errCodeShape = camsd.Errorf(camsd.CodeInvalidParameter, "The specified parameter \"VerifyCode\" is not valid: a verification code is 6 digits.")

// sixDigits reports whether v is a verification code's shape: exactly six decimal digits.
func sixDigits(v string) bool { return len(v) == 6 && digits(v) }

func digits(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return v != ""
}

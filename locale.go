package camsd

import "strings"

// locales are the language codes WhatsApp supports for messages and verification codes
// (Meta's "Supported languages" table). This is the one table camsd keeps of them.
var locales = []string{
	"af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "nl",
	"en", "en_GB", "en_US", "et", "fil", "fi", "fr", "ka", "de", "el", "gu", "ha", "he", "hi",
	"hu", "id", "ga", "it", "ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt", "mk",
	"ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "sk", "sl",
	"es", "es_AR", "es_ES", "es_MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi",
	"zu",
}

var localeIndex = func() map[string]string {
	m := make(map[string]string, len(locales))
	for _, l := range locales {
		m[strings.ToLower(l)] = l
	}
	return m
}()

// CanonicalLocale returns the WhatsApp locale code that l names, compared case-insensitively
// and with "-" taken for "_" ("zh-cn" gives "zh_CN"), and whether WhatsApp supports it.
func CanonicalLocale(l string) (string, bool) {
	c, ok := localeIndex[strings.ToLower(strings.ReplaceAll(l, "-", "_"))]
	return c, ok
}

// Locales returns the supported locale codes.
func Locales() []string { return append([]string(nil), locales...) }

package sim

import (
	"strings"

	"github.com/camsd/camsd"
)

// template is one language's message. In sms, {code} is the code; in voice, {spoken} is the
// code read digit by digit, said twice as a voice call would, and {code} is the plain code
// once more so that a test or a person can find it in the text.
type template struct{ sms, voice string }

// templates are keyed by WhatsApp locale code, or by bare language code for the variants that
// share a text (en_US and en_GB use "en"; es_AR, es_ES and es_MX use "es").
var templates = map[string]template{
	"en": {
		"Your WhatsApp verification code is {code}. Don't share this code with anyone.",
		"Your WhatsApp verification code is {spoken}. Again: {spoken}. ({code})",
	},
	"zh_CN": {
		"您的 WhatsApp 验证码是 {code}。请勿将此验证码告诉他人。",
		"您的 WhatsApp 验证码是 {spoken}。再说一遍：{spoken}。（{code}）",
	},
	"zh_TW": {
		"您的 WhatsApp 驗證碼是 {code}。請勿將此驗證碼告訴他人。",
		"您的 WhatsApp 驗證碼是 {spoken}。再說一次：{spoken}。（{code}）",
	},
	"zh_HK": {
		"您的 WhatsApp 驗證碼是 {code}。請勿將此驗證碼告訴他人。",
		"您的 WhatsApp 驗證碼是 {spoken}。再說一次：{spoken}。（{code}）",
	},
	"id": {
		"Kode verifikasi WhatsApp Anda adalah {code}. Jangan berikan kode ini kepada siapa pun.",
		"Kode verifikasi WhatsApp Anda adalah {spoken}. Sekali lagi: {spoken}. ({code})",
	},
	"ms": {
		"Kod pengesahan WhatsApp anda ialah {code}. Jangan kongsi kod ini dengan sesiapa.",
		"Kod pengesahan WhatsApp anda ialah {spoken}. Sekali lagi: {spoken}. ({code})",
	},
	"es": {
		"Tu código de verificación de WhatsApp es {code}. No compartas este código con nadie.",
		"Tu código de verificación de WhatsApp es {spoken}. Repito: {spoken}. ({code})",
	},
	"pt_BR": {
		"Seu código de verificação do WhatsApp é {code}. Não compartilhe este código com ninguém.",
		"Seu código de verificação do WhatsApp é {spoken}. Repetindo: {spoken}. ({code})",
	},
	"pt_PT": {
		"O seu código de verificação do WhatsApp é {code}. Não partilhe este código com ninguém.",
		"O seu código de verificação do WhatsApp é {spoken}. Repito: {spoken}. ({code})",
	},
	"fr": {
		"Votre code de vérification WhatsApp est {code}. Ne communiquez ce code à personne.",
		"Votre code de vérification WhatsApp est {spoken}. Je répète : {spoken}. ({code})",
	},
	"de": {
		"Dein WhatsApp-Bestätigungscode lautet {code}. Gib diesen Code an niemanden weiter.",
		"Dein WhatsApp-Bestätigungscode lautet {spoken}. Noch einmal: {spoken}. ({code})",
	},
	"ja": {
		"WhatsApp の認証コードは {code} です。このコードは誰にも教えないでください。",
		"WhatsApp の認証コードは {spoken} です。もう一度繰り返します：{spoken}。（{code}）",
	},
}

// Text returns the message that delivers code by method ("sms" or "voice", in any case) in
// locale. The locale is matched as camsd.CanonicalLocale matches it, then by its language
// alone; any other locale, supported by WhatsApp or not, gets English, which is what a person
// is most likely to read when their language has no text here. The code appears verbatim.
func Text(locale, method, code string) string {
	t := lookup(locale)
	if strings.EqualFold(method, "voice") {
		return strings.NewReplacer("{spoken}", spoken(code), "{code}", code).Replace(t.voice)
	}
	return strings.ReplaceAll(t.sms, "{code}", code)
}

func lookup(locale string) template {
	if c, ok := camsd.CanonicalLocale(locale); ok {
		if t, ok := templates[c]; ok {
			return t
		}
		lang, _, _ := strings.Cut(c, "_")
		if t, ok := templates[lang]; ok {
			return t
		}
	}
	return templates["en"]
}

// spoken spells the code out one character at a time ("123456" → "1 2 3 4 5 6"), as a voice
// reads a code, dropping the separators some codes are written with ("123-456").
func spoken(code string) string {
	var b strings.Builder
	for _, r := range code {
		if r == '-' || r == ' ' {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

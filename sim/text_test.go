package sim_test

import (
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/sim"
)

func TestText(t *testing.T) {
	const (
		en = "Your WhatsApp verification code is 123456. Don't share this code with anyone."
		es = "Tu código de verificación de WhatsApp es 123456. No compartas este código con nadie."
	)
	for _, tc := range []struct {
		name, locale, method, want string
	}{
		{"en_US", "en_US", "sms", en},
		{"zh_CN", "zh_CN", "sms", "您的 WhatsApp 验证码是 123456。请勿将此验证码告诉他人。"},
		{"id", "id", "sms", "Kode verifikasi WhatsApp Anda adalah 123456. Jangan berikan kode ini kepada siapa pun."},
		{"pt_BR", "pt_BR", "sms", "Seu código de verificação do WhatsApp é 123456. Não compartilhe este código com ninguém."},
		{"zh_TW", "zh_TW", "sms", "您的 WhatsApp 驗證碼是 123456。請勿將此驗證碼告訴他人。"},
		{"locale case and dash", "zh-cn", "sms", "您的 WhatsApp 验证码是 123456。请勿将此验证码告诉他人。"},
		{"en_GB uses English", "en_GB", "sms", en},
		{"es_MX uses Spanish", "es_MX", "sms", es},
		{"supported without a text falls back to English", "ko", "sms", en},
		{"unsupported falls back to English", "xx_YY", "sms", en},
		{"empty falls back to English", "", "sms", en},
		{"unknown method is a text message", "en_US", "fax", en},
		{"method case", "en_US", "SMS", en},
		{"voice en_US", "en_US", "voice",
			"Your WhatsApp verification code is 1 2 3 4 5 6. Again: 1 2 3 4 5 6. (123456)"},
		{"voice upper case", "en_US", "VOICE",
			"Your WhatsApp verification code is 1 2 3 4 5 6. Again: 1 2 3 4 5 6. (123456)"},
		{"voice zh_CN", "zh_CN", "voice", "您的 WhatsApp 验证码是 1 2 3 4 5 6。再说一遍：1 2 3 4 5 6。（123456）"},
		{"voice id", "id", "voice",
			"Kode verifikasi WhatsApp Anda adalah 1 2 3 4 5 6. Sekali lagi: 1 2 3 4 5 6. (123456)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sim.Text(tc.locale, tc.method, "123456"); got != tc.want {
				t.Errorf("Text(%q, %q) =\n  %q\nwant\n  %q", tc.locale, tc.method, got, tc.want)
			}
		})
	}

	t.Run("every supported locale and method carries the code", func(t *testing.T) {
		for _, l := range camsd.Locales() {
			for _, m := range []string{"sms", "voice"} {
				got := sim.Text(l, m, "908172")
				if !strings.Contains(got, "908172") {
					t.Errorf("Text(%q, %q) = %q, want the code verbatim", l, m, got)
				}
				if m == "voice" && strings.Count(got, "9 0 8 1 7 2") != 2 {
					t.Errorf("Text(%q, voice) = %q, want the digits spoken twice", l, got)
				}
				if strings.ContainsAny(got, "{}") {
					t.Errorf("Text(%q, %q) = %q has a placeholder left", l, m, got)
				}
			}
		}
	})

	t.Run("voice drops separators when spelling", func(t *testing.T) {
		got := sim.Text("en_US", "voice", "123-456")
		if !strings.Contains(got, "is 1 2 3 4 5 6.") || !strings.Contains(got, "(123-456)") {
			t.Errorf("Text = %q", got)
		}
	})
}

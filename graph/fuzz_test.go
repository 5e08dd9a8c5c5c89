package graph

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/camsd/camsd"
)

// FuzzParseError feeds parseError any status and body: it never panics, always returns an
// Error with the status, keeps strings valid, bounded and free of the token, and WireError
// always gives a code of the table.
func FuzzParseError(f *testing.F) {
	f.Add(400, []byte(`{"error":{"message":"(#136024) Request code error","type":"OAuthException","code":136024,"error_subcode":2388091,"is_transient":false,"error_user_title":"t","error_user_msg":"u","error_data":{"messaging_product":"whatsapp","details":"d"},"fbtrace_id":"AbC"}}`))
	f.Add(500, []byte(`<html>Internal Server Error</html>`))
	f.Add(429, []byte(`{"error":{"code":"130429","is_transient":"yes"}}`))
	f.Add(400, []byte(`{"error":"not an object"}`))
	f.Add(200, []byte(`{"error":{"code":1e400,"message":null,"error_data":[]}}`))
	wireCodes := map[string]bool{
		camsd.CodePhoneNumberNotMigrating: true, camsd.CodePhoneNumberAlreadyExists: true,
		camsd.CodeVerifyCodeSendFailed: true, camsd.CodeVerifyCodeInvalid: true,
		camsd.CodePhoneNumberRegisterTooFreq: true, camsd.CodePhoneNumberNotRegistered: true, camsd.CodeSystemLimitControl: true,
		camsd.CodeInvalidParameter: true, camsd.CodeServiceUnavailable: true, camsd.CodeInternalError: true,
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseError(status, body, testToken)
		if e == nil || e.Status != status {
			t.Fatalf("parseError(%d) = %+v", status, e)
		}
		for _, s := range []string{e.Type, e.Message, e.UserTitle, e.UserMessage, e.Details, e.FBTraceID} {
			if len(s) > maxText || strings.Contains(s, testToken) {
				t.Errorf("field %q: longer than %d bytes or carries the token", s, maxText)
			}
		}
		if !utf8.ValidString(e.Message) {
			t.Errorf("message %q is not valid UTF-8", e.Message)
		}
		_ = e.Error()
		we := WireError(e)
		if we == nil || !wireCodes[we.Code] || !utf8.ValidString(we.Message) || strings.Contains(we.Message, testToken) {
			t.Errorf("WireError = %+v", we)
		}
		if status >= http.StatusInternalServerError && e.Code == 0 && e.Subcode == 0 && we.Code != camsd.CodeServiceUnavailable {
			t.Errorf("a %d without a Graph code maps to %s", status, we.Code)
		}
	})
}

package acs

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/camsd/camsd"
)

// badValues are what no store may be handed: PostgreSQL refuses the first two in text.
var badValues = map[string]string{
	"NUL":            "ab\x00cd",
	"invalid UTF-8":  "ab\xffcd",
	"lone surrogate": "ab\xed\xa0\x80cd",
	"too long":       strings.Repeat("a", 300),
}

// askedKeys is a KeyLookup that records every id it is asked for.
type askedKeys struct {
	keys
	mu    sync.Mutex
	asked []string
}

func (k *askedKeys) Principal(ctx context.Context, id string) (*camsd.Principal, error) {
	k.mu.Lock()
	k.asked = append(k.asked, id)
	k.mu.Unlock()
	return k.keys.Principal(ctx, id)
}

// TestBadBytes_Authenticate: an AccessKey id or a nonce that is not UTF-8, holds a control
// character or is too long answers as documented without the key store (for a nonce) or any
// store (for a key id) being asked.
func TestBadBytes_Authenticate(t *testing.T) {
	type tc struct {
		name      string
		req       builder
		want      string
		status    int
		keysAsked int
	}
	var cases []tc
	for name, v := range badValues {
		cases = append(cases,
			tc{"V2 AccessKeyId " + name, v2Case{edit: set("AccessKeyId", v)}, "InvalidAccessKeyId.NotFound", 404, 0},
			tc{"V3 credential " + name, v3Case{keyID: v}, "InvalidAccessKeyId.NotFound", 404, 0},
			tc{"V2 SignatureNonce " + name, v2Case{edit: set("SignatureNonce", v)}, "IncompleteSignature", 400, 0},
			tc{"V3 nonce " + name, v3Case{edit: setH("x-acs-signature-nonce", v)}, "IncompleteSignature", 400, 0},
		)
	}
	for _, c := range []string{"\x01", "\t", "\n", "\x1f", "\x7f"} {
		cases = append(cases,
			tc{"V2 AccessKeyId control " + strconvQuote(c), v2Case{edit: set("AccessKeyId", "test"+c+"id")}, "InvalidAccessKeyId.NotFound", 404, 0},
			tc{"V2 SignatureNonce control " + strconvQuote(c), v2Case{edit: set("SignatureNonce", "n"+c+"n")}, "IncompleteSignature", 400, 0},
		)
	}
	cases = append(cases,
		tc{"V2 AccessKeyId 128 bytes is asked for", v2Case{edit: set("AccessKeyId", strings.Repeat("k", 128))}, "InvalidAccessKeyId.NotFound", 404, 1},
		tc{"V2 AccessKeyId 129 bytes", v2Case{edit: set("AccessKeyId", strings.Repeat("k", 129))}, "InvalidAccessKeyId.NotFound", 404, 0},
		tc{"V2 nonce of 128 bytes of UTF-8", v2Case{edit: set("SignatureNonce", strings.Repeat("é", 64))}, "", 200, 1},
		tc{"V3 nonce of UTF-8", v3Case{edit: setH("x-acs-signature-nonce", "nonce-日本")}, "", 200, 1},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, ns := newAuthenticator(mustTime(t, testNow))
			k := &askedKeys{keys: a.Keys.(keys)}
			a.Keys = k
			r, body := c.req.build()
			_, _, err := authenticate(t, a, r, body)
			if code(err) != c.want {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if c.want != "" && Status(c.want) != c.status {
				t.Errorf("status %d, want %d", Status(c.want), c.status)
			}
			if len(k.asked) != c.keysAsked {
				t.Errorf("key store asked %q, want %d lookups", k.asked, c.keysAsked)
			}
			if want := map[bool]int{true: 1, false: 0}[err == nil]; ns.len() != want {
				t.Errorf("nonces stored %d, want %d", ns.len(), want)
			}
		})
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestBadBytes_CheckParams(t *testing.T) {
	long := strings.Repeat("8", MaxParamLen+1)
	for _, tc := range []struct {
		name   string
		params url.Values
		msg    string // "" for nil
	}{
		{"none", nil, ""},
		{"ordinary", url.Values{"CustSpaceId": {"cams-abc"}, "Remark": {"中文 \t\n"}, "Empty": {""}}, ""},
		{"at the bound", url.Values{"PhoneNumber": {long[1:]}}, ""},
		{"NUL", url.Values{"CustSpaceId": {"cams\x00abc"}}, `The specified parameter "CustSpaceId" is not valid: it is not UTF-8 text or it contains a NUL byte.`},
		{"invalid UTF-8", url.Values{"CustSpaceId": {"\xff"}}, `The specified parameter "CustSpaceId" is not valid: it is not UTF-8 text or it contains a NUL byte.`},
		{"too long", url.Values{"PhoneNumber": {long}}, `The specified parameter "PhoneNumber" is not valid: it is longer than 4096 bytes.`},
		{"a second value", url.Values{"Locale": {"en", "\x00"}}, `The specified parameter "Locale" is not valid: it is not UTF-8 text or it contains a NUL byte.`},
		{"first by name", url.Values{"Method": {"\x00"}, "CustSpaceId": {"\xff"}, "Locale": {long}}, `The specified parameter "CustSpaceId" is not valid: it is not UTF-8 text or it contains a NUL byte.`},
		{"a name that is not UTF-8", url.Values{"\xffName": {"v"}, "A": {"\x00"}}, "A parameter name is not valid: names must be UTF-8 without NUL, at most 128 bytes."},
		{"a name with NUL", url.Values{"Na\x00me": {"v"}}, "A parameter name is not valid: names must be UTF-8 without NUL, at most 128 bytes."},
		{"a long name", url.Values{strings.Repeat("N", 129): {"v"}}, "A parameter name is not valid: names must be UTF-8 without NUL, at most 128 bytes."},
		{"a name with a quote is quoted", url.Values{"a\"b\n": {"\x00"}}, `The specified parameter "a\"b\n" is not valid: it is not UTF-8 text or it contains a NUL byte.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckParams(tc.params)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("CheckParams = %v, want nil", err)
				}
				return
			}
			e, ok := err.(*camsd.Error) //nolint:errorlint // the contract: a *camsd.Error
			if !ok || e.Code != camsd.CodeInvalidParameter || e.Message != tc.msg {
				t.Fatalf("CheckParams = %#v\nwant InvalidParameter %q", err, tc.msg)
			}
		})
	}
}

// TestBadBytes_Envelope: whatever bytes reach an error body (a message, the Host), it is
// valid JSON or XML with its RequestId.
func TestBadBytes_Envelope(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatXML} {
		for name, v := range badValues {
			t.Run(format+" "+name, func(t *testing.T) {
				w := httptest.NewRecorder()
				WriteError(w, format, "req-1", "host"+v, &camsd.Error{Code: camsd.CodeInvalidParameter, Message: "m" + v})
				checkEnvelope(t, format, w.Body.Bytes(), "req-1")
				if w.Header().Get(HeaderRequestID) != "req-1" {
					t.Errorf("x-acs-request-id %q", w.Header().Get(HeaderRequestID))
				}
			})
		}
	}
}

// checkEnvelope fails t unless body is valid UTF-8, parses as format and holds requestID.
func checkEnvelope(t testing.TB, format string, body []byte, requestID string) {
	t.Helper()
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		t.Fatalf("body is not UTF-8 text: %q", body)
	}
	var got errorBody
	var err error
	if format == FormatXML {
		err = xml.Unmarshal(body, &got)
	} else {
		err = json.Unmarshal(body, &got)
	}
	if err != nil || got.RequestID != requestID || got.Code == "" {
		t.Fatalf("%s body %q: %+v, %v", format, body, got, err)
	}
}

// FuzzBadBytes: CheckParams refuses exactly the names and values that are not UTF-8, hold
// NUL or are too long, with an InvalidParameter whose message is clean text that every
// envelope carries intact; AccessKey ids and nonces are taken exactly when they are short
// UTF-8 without control characters.
//
//	go test -run '^$' -fuzz FuzzBadBytes -fuzztime 20s ./acs/
func FuzzBadBytes(f *testing.F) {
	f.Add("CustSpaceId", "cams-abc")
	f.Add("CustSpaceId", "cams\x00abc")
	f.Add("PhoneNumber", "\xff\xfe")
	f.Add("Na\x00me", "v")
	f.Add("Remark", "中文\t\n\u2028")
	f.Fuzz(func(t *testing.T, name, value string) {
		clean := func(s string, maxLen int) bool {
			return len(s) <= maxLen && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
		}
		err := CheckParams(url.Values{name: {value}})
		if want := clean(name, maxParamNameLen) && clean(value, MaxParamLen); (err == nil) != want {
			t.Fatalf("CheckParams(%q: %q) = %v, want ok %v", name, value, err, want)
		}
		if err != nil {
			e, ok := err.(*camsd.Error) //nolint:errorlint // the contract: a *camsd.Error
			if !ok || e.Code != camsd.CodeInvalidParameter || !utf8.ValidString(e.Message) {
				t.Fatalf("CheckParams(%q: %q) = %#v", name, value, err)
			}
			for _, r := range e.Message {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("message holds a control character: %q", e.Message)
				}
			}
			if !clean(value, MaxParamLen) && len(value) > 3 && strings.Contains(e.Message, value) {
				t.Fatalf("message quotes the bad value: %q", e.Message)
			}
			for _, format := range []string{FormatJSON, FormatXML} {
				w := httptest.NewRecorder()
				WriteError(w, format, "req-1", "cams.test", err)
				checkEnvelope(t, format, w.Body.Bytes(), "req-1")
			}
		}
		token := value != "" && len(value) <= 128 && utf8.ValidString(value) &&
			!strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 || r == 0x7f })
		if validAccessKeyID(value) != token || validNonce(value) != token {
			t.Fatalf("%q: key id %v, nonce %v, want %v", value, validAccessKeyID(value), validNonce(value), token)
		}
	})
}

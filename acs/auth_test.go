package acs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

const (
	testNow  = "2024-01-01T00:00:00Z"
	testHost = "127.0.0.1:8080"
)

// v3Case builds a V3 request signed by darabonba: default query and headers, then edit
// (which may change them before signing), then after (which changes the signed request).
type v3Case struct {
	edit   func(q, h map[string]string)
	keyID  string
	secret string
	body   string // sent; signed unless signedBody is set
	signed *string
	after  func(r *http.Request)
}

func (c v3Case) build() (*http.Request, string) {
	q := map[string]string{"CustSpaceId": "cams-abc", "PhoneNumber": "8613800001234"}
	h := v3Headers(testHost, testAction, testVersion, testNow, "3156853299f313e23d1673dc12e1703d")
	if c.body != "" {
		h["content-type"] = "application/x-www-form-urlencoded"
	}
	if c.edit != nil {
		c.edit(q, h)
	}
	keyID, secret := testKeyID, testSecret
	if c.keyID != "" {
		keyID = c.keyID
	}
	if c.secret != "" {
		secret = c.secret
	}
	signedBody := c.body
	if c.signed != nil {
		signedBody = *c.signed
	}
	r := officialV3("POST", q, h, signedBody, c.body, keyID, secret)
	if c.after != nil {
		c.after(r)
	}
	return r, c.body
}

// v2Case builds a V2 request signed by darabonba in the same way.
type v2Case struct {
	method string
	edit   func(q map[string]string)
	form   map[string]string
	secret string
	after  func(r *http.Request)
}

func (c v2Case) build() (*http.Request, string) {
	q := v2Params(testAction, testVersion, testNow, "nonce-1")
	q["CustSpaceId"] = "cams-abc"
	if c.edit != nil {
		c.edit(q)
	}
	method := c.method
	if method == "" {
		method = "POST"
	}
	secret := testSecret
	if c.secret != "" {
		secret = c.secret
	}
	r, body := officialV2(method, testHost, q, c.form, secret)
	if c.after != nil {
		c.after(r)
	}
	return r, body
}

type builder interface {
	build() (*http.Request, string)
}

func set(k, v string) func(map[string]string) { return func(m map[string]string) { m[k] = v } }

func setH(k, v string) func(q, h map[string]string) {
	return func(_, h map[string]string) { h[k] = v }
}

func str(s string) *string { return &s }

func TestAuthenticator_Authenticate(t *testing.T) {
	skew := 15 * time.Minute
	ts := func(d time.Duration) string { return mustTime(t, testNow).Add(d).Format(time.RFC3339) }
	for _, tc := range []struct {
		name   string
		req    builder
		setup  func(a *Authenticator, n *nonces)
		want   string // wire code, "" for success
		status int
	}{
		{name: "V3 ok", req: v3Case{}},
		{name: "V3 ok form body", req: v3Case{body: "Locale=en_US&Remark=a+b"}},
		{name: "V3 ok Format param any case", req: v3Case{edit: func(q, _ map[string]string) { q["Format"] = "xMl" }}},
		{name: "V2 ok POST", req: v2Case{}},
		{name: "V2 ok GET", req: v2Case{method: "GET"}},
		{name: "V2 ok form body", req: v2Case{form: map[string]string{"PhoneNumber": "8613800001234", "Remark": "a b"}}},
		{name: "V2 ok fractional timestamp", req: v2Case{edit: set("Timestamp", "2024-01-01T00:00:00.123Z")}},
		{name: "V2 ok with V3 headers of another action", req: v2Case{after: func(r *http.Request) {
			r.Header.Set("x-acs-action", "Other")
			r.Header.Set("x-acs-version", "1999-01-01")
		}}},

		// A security token: a long-term key's call with one is refused, never served as if it
		// had none; the V3 header must be signed; STS ids need Sessions.
		{name: "V3 token on a long-term key", req: v3Case{edit: setH("x-acs-security-token", "CAMSD1.x.y")}, want: "InvalidSecurityToken.MismatchWithAccessKey", status: 400},
		{name: "V2 token on a long-term key", req: v2Case{edit: set("SecurityToken", "CAMSD1.x.y")}, want: "InvalidSecurityToken.MismatchWithAccessKey", status: 400},
		{name: "V3 token header not signed", req: v3Case{after: func(r *http.Request) { r.Header.Set("x-acs-security-token", "CAMSD1.x.y") }}, want: "IncompleteSignature", status: 400},
		{name: "V2 token sent twice", req: v2Case{after: func(r *http.Request) {
			r.URL.RawQuery += "&SecurityToken=a&SecurityToken=b"
		}}, want: "IncompleteSignature", status: 400},
		{name: "V3 STS id without STS", req: v3Case{keyID: "STS.abc", edit: setH("x-acs-security-token", "CAMSD1.x.y")}, want: "InvalidAccessKeyId.NotFound", status: 404},

		// 1 Version
		{name: "V3 version missing", req: v3Case{edit: setH("x-acs-version", "")}, want: "InvalidVersion", status: 400},
		{name: "V3 version unknown", req: v3Case{edit: setH("x-acs-version", "2019-01-01")}, want: "InvalidVersion", status: 400},
		{name: "V2 version unknown", req: v2Case{edit: set("Version", "2019-01-01")}, want: "InvalidVersion", status: 400},
		{name: "V2 version missing", req: v2Case{edit: func(q map[string]string) { delete(q, "Version") }}, want: "InvalidVersion", status: 400},
		// 2 Action
		{name: "V3 action unknown", req: v3Case{edit: setH("x-acs-action", "DeleteEverything")}, want: "InvalidAction.NotFound", status: 404},
		{name: "V3 action missing", req: v3Case{edit: setH("x-acs-action", "")}, want: "InvalidAction.NotFound", status: 404},
		{name: "V2 action unknown", req: v2Case{edit: set("Action", "DeleteEverything")}, want: "InvalidAction.NotFound", status: 404},
		// 3 Format
		{name: "V2 format unknown", req: v2Case{edit: set("Format", "yaml")}, want: "InvalidParameter.Format", status: 400},
		{name: "V3 format unknown", req: v3Case{edit: func(q, _ map[string]string) { q["Format"] = "yaml" }}, want: "InvalidParameter.Format", status: 400},
		// 4 signature well formed
		{name: "no signature", req: v2Case{after: func(r *http.Request) { dropParam(r, "Signature") }}, want: "IncompleteSignature", status: 400},
		{name: "ACS3-HMAC-SM3 is not V3", req: v3Case{after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SHA256", "SM3", 1))
		}}, want: "IncompleteSignature", status: 400},
		{name: "V3 authorization malformed", req: v3Case{after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Credential=", "Cred=", 1))
		}}, want: "IncompleteSignature", status: 400},
		{name: "V3 two authorization headers", req: v3Case{after: func(r *http.Request) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}}, want: "IncompleteSignature", status: 400},
		{name: "V3 nonce missing", req: v3Case{edit: setH("x-acs-signature-nonce", "")}, want: "IncompleteSignature", status: 400},
		{name: "V3 nonce not signed", req: v3Case{edit: setH("x-acs-signature-nonce", ""), after: func(r *http.Request) {
			r.Header.Set("x-acs-signature-nonce", "n")
		}}, want: "IncompleteSignature", status: 400},
		{name: "V3 nonce too long", req: v3Case{edit: setH("x-acs-signature-nonce", strings.Repeat("n", 129))}, want: "IncompleteSignature", status: 400},
		{name: "V3 date missing", req: v3Case{edit: setH("x-acs-date", "")}, want: "IncompleteSignature", status: 400},
		{name: "V3 host not signed", req: v3Case{after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
		}}, want: "IncompleteSignature", status: 400},
		{name: "V3 form body without signed content-type", req: v3Case{body: "Locale=en_US", edit: setH("content-type", ""), after: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}}, want: "IncompleteSignature", status: 400},
		{name: "V3 action header twice", req: v3Case{after: func(r *http.Request) { r.Header.Add("x-acs-action", testAction) }}, want: "IncompleteSignature", status: 400},
		{name: "V3 signed content-type twice", req: v3Case{body: "Locale=en_US", after: func(r *http.Request) {
			r.Header.Add("Content-Type", "application/x-www-form-urlencoded")
		}}, want: "IncompleteSignature", status: 400},
		{name: "V2 signature method", req: v2Case{edit: set("SignatureMethod", "HMAC-SHA256")}, want: "InvalidSignatureMethod", status: 400},
		{name: "V2 signature method missing", req: v2Case{edit: func(q map[string]string) { delete(q, "SignatureMethod") }}, want: "IncompleteSignature", status: 400},
		{name: "V2 signature version", req: v2Case{edit: set("SignatureVersion", "2.0")}, want: "IncompleteSignature", status: 400},
		{name: "V2 nonce missing", req: v2Case{edit: func(q map[string]string) { delete(q, "SignatureNonce") }}, want: "IncompleteSignature", status: 400},
		{name: "V2 timestamp missing", req: v2Case{edit: func(q map[string]string) { delete(q, "Timestamp") }}, want: "IncompleteSignature", status: 400},
		{name: "V2 access key missing", req: v2Case{edit: func(q map[string]string) { delete(q, "AccessKeyId") }}, want: "IncompleteSignature", status: 400},
		{name: "V2 signature empty", req: v2Case{after: func(r *http.Request) { dropParam(r, "Signature"); r.URL.RawQuery += "&Signature=" }}, want: "IncompleteSignature", status: 400},
		{name: "V2 access key twice", req: v2Case{form: map[string]string{"AccessKeyId": "other"}}, want: "IncompleteSignature", status: 400},
		// 5 timestamp
		{name: "V3 date not RFC 3339", req: v3Case{edit: setH("x-acs-date", "2024-01-01 00:00:00")}, want: "InvalidTimeStamp.Format", status: 400},
		{name: "V2 timestamp not RFC 3339", req: v2Case{edit: set("Timestamp", "20240101T000000Z")}, want: "InvalidTimeStamp.Format", status: 400},
		{name: "V3 date at the skew in the past", req: v3Case{edit: setH("x-acs-date", ts(-skew))}},
		{name: "V3 date at the skew in the future", req: v3Case{edit: setH("x-acs-date", ts(skew))}},
		{name: "V3 date beyond the skew in the past", req: v3Case{edit: setH("x-acs-date", ts(-skew-time.Second))}, want: "InvalidTimeStamp.Expired", status: 400},
		{name: "V3 date beyond the skew in the future", req: v3Case{edit: setH("x-acs-date", ts(skew+time.Second))}, want: "InvalidTimeStamp.Expired", status: 400},
		{name: "V2 timestamp a millisecond beyond the skew", req: v2Case{edit: set("Timestamp", "2023-12-31T23:44:59.999Z")}, want: "InvalidTimeStamp.Expired", status: 400},
		{name: "V2 timestamp at the skew", req: v2Case{edit: set("Timestamp", "2024-01-01T00:15:00Z")}},
		// 6 AccessKey
		{name: "V3 key unknown", req: v3Case{keyID: "nobody"}, want: "InvalidAccessKeyId.NotFound", status: 404},
		{name: "V2 key unknown", req: v2Case{edit: set("AccessKeyId", "nobody")}, want: "InvalidAccessKeyId.NotFound", status: 404},
		{name: "V3 key inactive", req: v3Case{keyID: inactiveKey}, want: "InvalidAccessKeyId.Inactive", status: 400},
		{name: "key status unset is inactive", req: v3Case{}, setup: func(a *Authenticator, _ *nonces) {
			a.Keys = keys{testKeyID: ""}
		}, want: "InvalidAccessKeyId.Inactive", status: 400},
		// 7 signature
		{name: "V3 wrong secret", req: v3Case{secret: "other"}, want: "SignatureDoesNotMatch", status: 400},
		{name: "V3 query changed", req: v3Case{after: func(r *http.Request) { r.URL.RawQuery += "&Extra=1" }}, want: "SignatureDoesNotMatch", status: 400},
		{name: "V3 body changed", req: v3Case{body: "Locale=en_US", signed: str("Locale=en_GB")}, want: "SignatureDoesNotMatch", status: 400},
		{name: "V3 content hash header lies", req: v3Case{body: "Locale=en_US", after: func(r *http.Request) {
			r.Header.Set("x-acs-content-sha256", emptyBodySum)
		}}, want: "SignatureDoesNotMatch", status: 400},
		{name: "V3 method changed", req: v3Case{after: func(r *http.Request) { r.Method = "GET" }}, want: "SignatureDoesNotMatch", status: 400},
		{name: "V3 host changed", req: v3Case{after: func(r *http.Request) { r.Host = "127.0.0.1:8081" }}, want: "SignatureDoesNotMatch", status: 400},
		{name: "V2 wrong secret", req: v2Case{secret: "other"}, want: "SignatureDoesNotMatch", status: 400},
		{name: "V2 method changed", req: v2Case{after: func(r *http.Request) { r.Method = "GET" }}, want: "SignatureDoesNotMatch", status: 400},
		// 8 nonce
		{name: "nonce used", req: v3Case{}, setup: func(_ *Authenticator, n *nonces) { n.err = camsd.ErrNonceUsed }, want: "SignatureNonceUsed", status: 400},
		{name: "nonce store full", req: v2Case{}, setup: func(_ *Authenticator, n *nonces) { n.err = camsd.ErrNonceStoreFull }, want: "ServiceUnavailable", status: 503},
		{name: "nonce store unavailable: fail closed", req: v2Case{}, setup: func(_ *Authenticator, n *nonces) {
			n.err = fmt.Errorf("redis: %w", camsd.ErrUnavailable)
		}, want: "ServiceUnavailable", status: 503},

		// Order: the earlier check answers.
		{name: "order: bad version before bad signature", req: v3Case{secret: "other", edit: setH("x-acs-version", "1")}, want: "InvalidVersion", status: 400},
		{name: "order: bad version before missing signature", req: v2Case{edit: set("Version", "1"), after: func(r *http.Request) { dropParam(r, "Signature") }}, want: "InvalidVersion", status: 400},
		{name: "order: bad action before bad format", req: v2Case{edit: func(q map[string]string) { q["Action"] = "X"; q["Format"] = "yaml" }}, want: "InvalidAction.NotFound", status: 404},
		{name: "order: bad format before incomplete signature", req: v2Case{edit: func(q map[string]string) { q["Format"] = "yaml"; delete(q, "SignatureNonce") }}, want: "InvalidParameter.Format", status: 400},
		{name: "order: signature method before bad timestamp", req: v2Case{edit: func(q map[string]string) { q["SignatureMethod"] = "MD5"; q["Timestamp"] = "x" }}, want: "InvalidSignatureMethod", status: 400},
		{name: "order: incomplete before bad timestamp", req: v3Case{edit: func(_, h map[string]string) { h["x-acs-date"] = "x"; h["x-acs-signature-nonce"] = "" }}, want: "IncompleteSignature", status: 400},
		{name: "order: bad timestamp before unknown key", req: v2Case{edit: func(q map[string]string) { q["Timestamp"] = "x"; q["AccessKeyId"] = "nobody" }}, want: "InvalidTimeStamp.Format", status: 400},
		{name: "order: expired before unknown key", req: v3Case{keyID: "nobody", edit: setH("x-acs-date", ts(-time.Hour))}, want: "InvalidTimeStamp.Expired", status: 400},
		{name: "order: unknown key before bad signature", req: v3Case{keyID: "nobody", secret: "other"}, want: "InvalidAccessKeyId.NotFound", status: 404},
		{name: "order: inactive key before bad signature", req: v2Case{secret: "other", edit: set("AccessKeyId", inactiveKey)}, want: "InvalidAccessKeyId.Inactive", status: 400},
		{name: "order: bad signature before used nonce", req: v3Case{secret: "other"}, setup: func(_ *Authenticator, n *nonces) { n.err = camsd.ErrNonceUsed }, want: "SignatureDoesNotMatch", status: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ns := newAuthenticator(mustTime(t, testNow))
			if tc.setup != nil {
				tc.setup(a, ns)
			}
			r, body := tc.req.build()
			_, p, err := authenticate(t, a, r, body)
			if got := code(err); got != tc.want {
				t.Fatalf("Authenticate: code %q (%v), want %q", got, err, tc.want)
			}
			if err != nil {
				if got := Status(code(err)); got != tc.status {
					t.Errorf("status %d, want %d", got, tc.status)
				}
				var e *camsd.Error
				if !errors.As(err, &e) || e.Message == "" {
					t.Errorf("error %#v has no message", err)
				}
				if p != nil {
					t.Errorf("principal %v with an error", p)
				}
			} else if p == nil || p.Key.ID != testKeyID {
				t.Errorf("principal %v, want key %s", p, testKeyID)
			}
			// A nonce is recorded if and only if the request authenticated.
			if wantStored := map[bool]int{true: 1, false: 0}[err == nil]; ns.len() != wantStored {
				t.Errorf("nonces stored %d, want %d", ns.len(), wantStored)
			}
		})
	}
}

func TestAuthenticator_Authenticate_lookupError(t *testing.T) {
	a, _ := newAuthenticator(mustTime(t, testNow))
	r, body := v3Case{keyID: brokenKey}.build()
	_, _, err := authenticate(t, a, r, body)
	if err != errLookup {
		t.Errorf("got %v, want the lookup's error unchanged", err)
	}
}

type nilLookup struct{}

func (nilLookup) Principal(context.Context, string) (*camsd.Principal, error) { return nil, nil }

func TestAuthenticator_Authenticate_noPrincipal(t *testing.T) {
	a, _ := newAuthenticator(mustTime(t, testNow))
	a.Keys = nilLookup{}
	r, body := v3Case{}.build()
	_, p, err := authenticate(t, a, r, body)
	if err == nil || p != nil || code(err) != "InternalError" {
		t.Errorf("got %v, %v; want an internal error", p, err)
	}
}

func TestAuthenticator_Authenticate_nonceStoreError(t *testing.T) {
	a, ns := newAuthenticator(mustTime(t, testNow))
	want := errors.New("disk full")
	ns.err = want
	r, body := v2Case{}.build()
	if _, _, err := authenticate(t, a, r, body); err != want {
		t.Errorf("got %v, want the store's error unchanged", err)
	}
}

func TestAuthenticator_Authenticate_signatureMismatchMessage(t *testing.T) {
	const prefix = "Specified signature is not matched with our calculation. server string to sign is:"
	for _, tc := range []struct {
		name string
		req  builder
		want string // string to sign, or its prefix for V3
	}{
		{"V2", v2Case{secret: "other"}, "POST&%2F&AccessKeyId%3Dtestid%26Action%3DGetMigrationVerifyCode%26CustSpaceId%3Dcams-abc%26Format%3Djson" +
			"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dnonce-1%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-01T00%253A00%253A00Z%26Version%3D2020-06-06"},
		{"V3", v3Case{secret: "other"}, "ACS3-HMAC-SHA256\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := newAuthenticator(mustTime(t, testNow))
			r, body := tc.req.build()
			_, _, err := authenticate(t, a, r, body)
			var e *camsd.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v", err)
			}
			sts, ok := strings.CutPrefix(e.Message, prefix)
			if !ok || !strings.HasPrefix(sts, tc.want) {
				t.Errorf("message %q, want %q + %q", e.Message, prefix, tc.want)
			}
			if tc.name == "V3" && len(sts) != len("ACS3-HMAC-SHA256\n")+64 {
				t.Errorf("V3 string to sign %q is not the algorithm and a SHA-256", sts)
			}
		})
	}
}

// A V2 string to sign holds every parameter: a long one is echoed cut, with how much was cut,
// and the reply stays small.
func TestAuthenticator_Authenticate_signatureMismatchCapped(t *testing.T) {
	const prefix = "Specified signature is not matched with our calculation. server string to sign is:"
	a, _ := newAuthenticator(mustTime(t, testNow))
	r, body := v2Case{secret: "other", form: map[string]string{"Padding": strings.Repeat("é", 300_000)}}.build()
	_, _, err := authenticate(t, a, r, body)
	var e *camsd.Error
	if !errors.As(err, &e) || e.Code != camsd.CodeSignatureDoesNotMatch {
		t.Fatalf("got %v", err)
	}
	sts, ok := strings.CutPrefix(e.Message, prefix)
	if !ok {
		t.Fatalf("message %.200q", e.Message)
	}
	echoed, cut, ok := strings.Cut(sts, "...[")
	if !ok || len(echoed) != 1024 || !strings.HasPrefix(echoed, "POST&%2F&AccessKeyId%3Dtestid%26") {
		t.Fatalf("echoed %d bytes %.60q, want the first 1024 and a marker", len(echoed), sts)
	}
	// "é" is %C3%A9, encoded again: %25C3%25A9, 10 bytes; the other params are under 300.
	n, err := strconv.Atoi(strings.TrimSuffix(cut, " more bytes]"))
	if err != nil || n < 300_000*10-1024 {
		t.Errorf("marker %q: want how many bytes were cut", cut)
	}
	rec := httptest.NewRecorder()
	WriteError(rec, FormatJSON, "req-1", "", err)
	if rec.Body.Len() > 2048 {
		t.Errorf("reply of %d bytes", rec.Body.Len())
	}
}

func TestCapEcho(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc...[1 more bytes]"},
		{"abé", 3, "ab...[2 more bytes]"}, // never half a character
		{"", 0, ""},
	} {
		if got := capEcho(tc.s, tc.max); got != tc.want {
			t.Errorf("capEcho(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
		}
	}
}

// A request refused for its signature must not burn its nonce: the genuine request with
// the same nonce still passes, and a replay of it does not.
func TestAuthenticator_Authenticate_nonceAfterSignature(t *testing.T) {
	a, ns := newAuthenticator(mustTime(t, testNow))
	ctx := context.Background()
	run := func(b builder) string {
		r, body := b.build()
		req, err := ParseRequest(r, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Authenticate(ctx, nil, req)
		return code(err)
	}
	got := []string{
		run(v3Case{secret: "forged"}),
		run(v3Case{}),
		run(v3Case{}),
	}
	if diff := cmp.Diff([]string{"SignatureDoesNotMatch", "", "SignatureNonceUsed"}, got); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if exp := ns.used[testKeyID+"\x00"+"3156853299f313e23d1673dc12e1703d"]; !exp.Equal(mustTime(t, testNow).Add(15 * time.Minute)) {
		t.Errorf("nonce expires %v, want timestamp + MaxSkew", exp)
	}
}

func TestAuthenticator_Authenticate_defaults(t *testing.T) {
	a, _ := newAuthenticator(time.Time{})
	a.Now, a.MaxSkew = nil, 0
	now := time.Now().UTC()
	r, body := v3Case{edit: setH("x-acs-date", now.Add(-14*time.Minute).Format(time.RFC3339))}.build()
	if _, _, err := authenticate(t, a, r, body); err != nil {
		t.Errorf("14 minutes old with the default clock and skew: %v", err)
	}
	r, body = v3Case{edit: setH("x-acs-date", now.Add(-16*time.Minute).Format(time.RFC3339))}.build()
	if _, _, err := authenticate(t, a, r, body); code(err) != "InvalidTimeStamp.Expired" {
		t.Errorf("16 minutes old with the default clock and skew: %v", err)
	}
}

// dropParam removes a param from r's query string.
func dropParam(r *http.Request, name string) {
	q := r.URL.Query()
	q.Del(name)
	r.URL.RawQuery = q.Encode()
}

// Header values are signed trimmed: a replay that pads the nonce must still find it used.
func TestAuthenticator_Authenticate_replayWithPaddedNonce(t *testing.T) {
	a, _ := newAuthenticator(mustTime(t, testNow))
	var got []string
	for _, pad := range []string{"", " ", "\t"} {
		r, body := v3Case{after: func(r *http.Request) {
			r.Header.Set("x-acs-signature-nonce", pad+r.Header.Get("x-acs-signature-nonce")+pad)
		}}.build()
		_, _, err := authenticate(t, a, r, body)
		got = append(got, code(err))
	}
	if diff := cmp.Diff([]string{"", "SignatureNonceUsed", "SignatureNonceUsed"}, got); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}

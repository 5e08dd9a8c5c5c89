package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestErrors_OfficialClient drives every documented error through the official darabonba
// client (V3, its default) and asserts the HTTP status and Code it reports.
func TestErrors_OfficialClient(t *testing.T) {
	cfg := testConfig(t)
	cfg.QPS = 10_000 // flow control has its own test
	m := start(t, cfg)

	// One code goes out first so that the resend interval can refuse the next.
	if _, err := call(newClient(t, m, acmeKey, acmeSecret, ""), actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")); err != nil {
		t.Fatal(err)
	}
	q := func(kv ...string) map[string]string {
		out := verifyCodeQuery(acmeSpace, "8613800001235", "en_US", "sms")
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(out, kv[i])
			} else {
				out[kv[i]] = kv[i+1]
			}
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		key, secret string
		action      string
		query       map[string]string
		status      int
		code        string
		msgHas      string
	}{
		{"unknown action", acmeKey, acmeSecret, "NoSuchAction", q(), 404, "InvalidAction.NotFound", ""},
		{"unknown key", "LTAI5tNoSuchKey0000001", "x", actionGetVC, q(), 404, "InvalidAccessKeyId.NotFound", ""},
		{"disabled key", offKey, offSecret, actionGetVC, q(), 400, "InvalidAccessKeyId.Inactive", ""},
		{"wrong secret", acmeKey, "not-the-secret", actionGetVC, q(), 400, "SignatureDoesNotMatch", "server string to sign is:"},
		{"unsubscribed", unsubKey, unsubSecret, actionGetVC, q(), 400, "Product.Unsubscript", "You have not subscribed to the specified product."},
		{"RAM implicit deny", readKey, readSecret, actionGetVC, q(), 400, "Ram.PermissionDeny", "You are not authorized to perform the operation."},
		{"RAM explicit deny", blockKey, blockSecret, actionGetVC, q(), 400, "Ram.PermissionDeny", ""},
		{"missing CustSpaceId", acmeKey, acmeSecret, actionGetVC, q("CustSpaceId", ""), 400, "MissingCustSpaceId", "CustSpaceId"},
		{"missing PhoneNumber", acmeKey, acmeSecret, actionGetVC, q("PhoneNumber", ""), 400, "MissingPhoneNumber", "PhoneNumber"},
		{"missing Locale", acmeKey, acmeSecret, actionGetVC, q("Locale", ""), 400, "MissingLocale", "Locale"},
		{"missing Method", acmeKey, acmeSecret, actionGetVC, q("Method", ""), 400, "MissingMethod", "Method"},
		{"presence before values", acmeKey, acmeSecret, actionGetVC, q("Method", "fax", "Locale", ""), 400, "MissingLocale", ""},
		{"bad Method", acmeKey, acmeSecret, actionGetVC, q("Method", "fax"), 400, "InvalidParameter", "Method"},
		{"Method before number", acmeKey, acmeSecret, actionGetVC, q("Method", "fax", "PhoneNumber", "12"), 400, "InvalidParameter", "Method"},
		{"short number", acmeKey, acmeSecret, actionGetVC, q("PhoneNumber", "1234567"), 400, "InvalidParameter.PhoneNumberError", ""},
		{"leading zero", acmeKey, acmeSecret, actionGetVC, q("PhoneNumber", "08613800001235"), 400, "InvalidParameter.PhoneNumberError", ""},
		{"plus sign", acmeKey, acmeSecret, actionGetVC, q("PhoneNumber", "+8613800001235"), 400, "InvalidParameter.PhoneNumberError", ""},
		{"number before locale", acmeKey, acmeSecret, actionGetVC, q("PhoneNumber", "12", "Locale", "xx"), 400, "InvalidParameter.PhoneNumberError", ""},
		{"unsupported locale", acmeKey, acmeSecret, actionGetVC, q("Locale", "tlh_KL"), 400, "InvalidParameter.LanguageNotSupport", ""},
		{"another tenant's space", acmeKey, acmeSecret, actionGetVC, q("CustSpaceId", otherSpace, "PhoneNumber", otherNumber), 400, "Unknown.ResourceOwnerId", "The resource does not belong to the current user."},
		{"no such space", acmeKey, acmeSecret, actionGetVC, q("CustSpaceId", "999999999"), 400, "Unknown.ResourceOwnerId", ""},
		{"foreign ResourceOwnerId", acmeKey, acmeSecret, actionGetVC, q("ResourceOwnerId", "1000000000000002"), 400, "Unknown.ResourceOwnerId", ""},
		{"number not in space", acmeKey, acmeSecret, actionGetVC, q("PhoneNumber", notInSpace), 400, "PhoneNumber.NotFound", ""},
		{"number not migrating", acmeKey, acmeSecret, actionGetVC, q("PhoneNumber", connected), 400, "PhoneNumber.NotMigrating", ""},
		{"resend too soon", acmeKey, acmeSecret, actionGetVC, q("PhoneNumber", migrating), 400, "VerifyCode.SendTooFrequent", ""},
		{"RAM user allowed, ownership still checked", opsKey, opsSecret, actionGetVC, q("CustSpaceId", otherSpace), 400, "Unknown.ResourceOwnerId", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, alg := range []string{"", "v2"} {
				_, err := call(newClient(t, m, tc.key, tc.secret, alg), tc.action, tc.query)
				if err == nil {
					t.Fatalf("%s: call succeeded, want %s", sigName(alg), tc.code)
				}
				e := asSDKError(t, err)
				if got := e.Status; got != tc.status {
					t.Errorf("%s: status %d, want %d (%v)", sigName(alg), got, tc.status, err)
				}
				if got := e.Code; got != tc.code {
					t.Errorf("%s: Code %q, want %q (%v)", sigName(alg), got, tc.code, err)
				}
				for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
					if v, _ := e.Body[k].(string); v == "" {
						t.Errorf("%s: error body lacks %s: %v", sigName(alg), k, e.Body)
					}
				}
				if ad, ok := e.Body["AccessDeniedDetail"]; ok {
					if _, isObj := ad.(map[string]any); !isObj {
						t.Errorf("%s: AccessDeniedDetail is %T, want an object", sigName(alg), ad)
					}
				}
				if tc.msgHas != "" && !strings.Contains(e.Message, tc.msgHas) {
					t.Errorf("%s: message %q lacks %q", sigName(alg), e.Message, tc.msgHas)
				}
			}
		})
	}
}

func sigName(alg string) string {
	if alg == "" {
		return "V3"
	}
	return "V2"
}

// TestErrors_RAMDetail checks the AccessDeniedDetail object the SDK hands to callers.
func TestErrors_RAMDetail(t *testing.T) {
	m := start(t, testConfig(t))
	for _, tc := range []struct {
		key, secret, user, kind string
	}{
		{readKey, readSecret, "reader", "ImplicitDeny"},
		{blockKey, blockSecret, "blocked", "ExplicitDeny"},
	} {
		_, err := call(newClient(t, m, tc.key, tc.secret, ""), actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))
		d := asSDKError(t, err).AccessDeniedDetail
		want := map[string]string{
			"NoPermissionType":         tc.kind,
			"AuthAction":               "cams:GetMigrationVerifyCode",
			"AuthPrincipalType":        "SubUser",
			"AuthPrincipalOwnerId":     acmeUID,
			"AuthPrincipalDisplayName": tc.user,
		}
		for k, v := range want {
			if d[k] != v {
				t.Errorf("%s: AccessDeniedDetail.%s = %v, want %v (all: %v)", tc.user, k, d[k], v, d)
			}
		}
		for _, k := range []string{"PolicyType", "EncodedDiagnosticMessage"} {
			if s, _ := d[k].(string); s == "" {
				t.Errorf("%s: AccessDeniedDetail.%s is empty", tc.user, k)
			}
		}
	}
}

// TestErrors_Raw covers what the SDKs never send: unsigned, malformed and replayed requests,
// and the headers of refusals.
func TestErrors_Raw(t *testing.T) {
	cfg := testConfig(t)
	m := start(t, cfg)
	now := time.Now()
	params := verifyCodeQuery(acmeSpace, "8613800001236", "en_US", "sms")
	nonce := 0
	next := func() string { nonce++; return fmt.Sprintf("raw-%d-%d", now.UnixNano(), nonce) }

	t.Run("unsigned", func(t *testing.T) {
		r := send(t, "GET", m.URL+"/?Action=GetMigrationVerifyCode&Version=2020-06-06&Format=JSON", nil, nil)
		assertEnvelope(t, r, 400, "IncompleteSignature")
	})
	t.Run("bad version first", func(t *testing.T) {
		q := signedV2("GET", acmeKey, "wrong", actionGetVC, params, now, next())
		q.Set("Version", "2017-01-01")
		assertEnvelope(t, send(t, "GET", m.URL+"/?"+q.Encode(), nil, nil), 400, "InvalidVersion")
	})
	t.Run("timestamp format", func(t *testing.T) {
		q := signedV2("GET", acmeKey, acmeSecret, actionGetVC, params, now, next())
		q.Set("Timestamp", "yesterday")
		assertEnvelope(t, send(t, "GET", m.URL+"/?"+q.Encode(), nil, nil), 400, "InvalidTimeStamp.Format")
	})
	t.Run("timestamp expired", func(t *testing.T) {
		q := signedV2("GET", acmeKey, acmeSecret, actionGetVC, params, now.Add(-16*time.Minute), next())
		assertEnvelope(t, send(t, "GET", m.URL+"/?"+q.Encode(), nil, nil), 400, "InvalidTimeStamp.Expired")
	})
	t.Run("nonce replay", func(t *testing.T) {
		q := signedV2("GET", acmeKey, acmeSecret, actionGetVC, verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms"), now, next())
		first := send(t, "GET", m.URL+"/?"+q.Encode(), nil, nil)
		assertEnvelope(t, first, 400, "PhoneNumber.NotFound")
		assertEnvelope(t, send(t, "GET", m.URL+"/?"+q.Encode(), nil, nil), 400, "SignatureNonceUsed")
	})
	t.Run("bad signature does not burn the nonce", func(t *testing.T) {
		n := next()
		bad := signedV2("GET", acmeKey, "wrong", actionGetVC, verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms"), now, n)
		assertEnvelope(t, send(t, "GET", m.URL+"/?"+bad.Encode(), nil, nil), 400, "SignatureDoesNotMatch")
		good := signedV2("GET", acmeKey, acmeSecret, actionGetVC, verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms"), now, n)
		assertEnvelope(t, send(t, "GET", m.URL+"/?"+good.Encode(), nil, nil), 400, "PhoneNumber.NotFound")
	})
	t.Run("form body", func(t *testing.T) {
		q := signedV2("POST", acmeKey, acmeSecret, actionGetVC, params, now, next())
		r := send(t, "POST", m.URL+"/", strings.NewReader(q.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if r.Status != 200 || r.str("Code") != "OK" {
			t.Fatalf("form POST: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("resend refused with Retry-After", func(t *testing.T) {
		q := signedV2("GET", acmeKey, acmeSecret, actionGetVC, params, now, next())
		r := send(t, "GET", m.URL+"/?"+q.Encode(), nil, nil)
		assertEnvelope(t, r, 400, "VerifyCode.SendTooFrequent")
		var secs int
		if _, err := fmt.Sscan(r.Header.Get("Retry-After"), &secs); err != nil || secs < 1 || secs > 60 {
			t.Errorf("Retry-After = %q, want whole seconds in 1..60", r.Header.Get("Retry-After"))
		}
		// The aliyun CLI retries any error reply that carries x-acs-retry-after.
		if v, ok := r.Header["X-Acs-Retry-After"]; ok {
			t.Errorf("x-acs-retry-after = %q on a business refusal; the CLI would retry it", v)
		}
	})
	t.Run("XML error", func(t *testing.T) {
		p := map[string]string{"Format": "XML"}
		for k, v := range verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms") {
			p[k] = v
		}
		q := signedV2("GET", acmeKey, acmeSecret, actionGetVC, p, now, next())
		r := send(t, "GET", m.URL+"/?"+q.Encode(), nil, nil)
		if r.Status != 400 || !strings.Contains(r.Raw, "<Error>") || !strings.Contains(r.Raw, "<Code>PhoneNumber.NotFound</Code>") {
			t.Fatalf("XML error: %d %s", r.Status, r.Raw)
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/xml") {
			t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		}
	})
	t.Run("method", func(t *testing.T) {
		r := send(t, http.MethodPut, m.URL+"/", nil, nil)
		if r.Status < 400 || r.str("Code") == "" || r.str("RequestId") == "" {
			t.Fatalf("PUT: %d %s", r.Status, r.Raw)
		}
	})
}

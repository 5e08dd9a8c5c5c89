package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// badBytesCase is one request carrying a value no store may see, and the answer it gets on
// every store.
type badBytesCase struct {
	name   string
	req    func(t *testing.T, m *Main) signedCall
	status int
	code   string
	msgHas string // the message names the parameter
	xml    bool   // the reply is XML
}

// badBytesCases are the requests of TestBadBytes_EveryStore: NUL, invalid UTF-8 and
// over-long values in a parameter, the AccessKey id and the nonce. A NUL in a V3 header
// cannot be sent: net/http refuses it on both sides (400 before camsd sees the request).
func badBytesCases() []badBytesCase {
	v2 := func(key, action string, params map[string]string, nonce string) func(*testing.T, *Main) signedCall {
		return func(t *testing.T, m *Main) signedCall {
			if nonce == "" {
				nonce = freshNonce(t)
			}
			q := signedV2("GET", key, acmeSecret, action, params, time.Now(), nonce)
			return signedCall{method: "GET", url: m.URL + "/?" + q.Encode()}
		}
	}
	v3 := func(key string, params map[string]string, nonce string) func(*testing.T, *Main) signedCall {
		return func(t *testing.T, m *Main) signedCall {
			if nonce == "" {
				nonce = freshNonce(t)
			}
			target := loadTarget{Base: m.URL, KeyID: key, Secret: acmeSecret}
			return signV3(target, hostOf(m), params, time.Now().UTC().Format("2006-01-02T15:04:05Z"), nonce)
		}
	}
	vc := func(kv ...string) map[string]string {
		q := verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(q, kv[i])
			} else {
				q[kv[i]] = kv[i+1]
			}
		}
		return q
	}
	const (
		nul        = "293483938849493\x00"
		notUTF8    = "293483938849493\xff"
		badParam   = "InvalidParameter"
		badKey     = "InvalidAccessKeyId.NotFound"
		badNonce   = "IncompleteSignature"
		namesSpace = `"CustSpaceId"`
	)
	long := strings.Repeat("8", 5000)
	return []badBytesCase{
		{"V2 NUL in CustSpaceId", v2(acmeKey, actionGetVC, vc("CustSpaceId", nul), ""), 400, badParam, namesSpace, false},
		{"V2 invalid UTF-8 in CustSpaceId", v2(acmeKey, actionGetVC, vc("CustSpaceId", notUTF8), ""), 400, badParam, namesSpace, false},
		{"V3 NUL in CustSpaceId", v3(acmeKey, vc("CustSpaceId", nul), ""), 400, badParam, namesSpace, false},
		{"V3 invalid UTF-8 in CustSpaceId", v3(acmeKey, vc("CustSpaceId", notUTF8), ""), 400, badParam, namesSpace, false},
		{"V2 5000-byte PhoneNumber", v2(acmeKey, actionGetVC, vc("PhoneNumber", long), ""), 400, badParam, `"PhoneNumber"`, false},
		{"V2 NUL in an unknown parameter", v2(acmeKey, actionGetVC, vc("Remark", "a\x00b"), ""), 400, badParam, `"Remark"`, false},
		{"V2 NUL in CustSpaceId, status", v2(acmeKey, "GetPhoneNumberVerificationStatus", map[string]string{"CustSpaceId": nul, "PhoneNumber": migrating}, ""), 400, badParam, namesSpace, false},
		{"V2 NUL in CustSpaceId, register", v2(acmeKey, "ChatappMigrationRegister", map[string]string{"CustSpaceId": nul, "PhoneNumber": migrating}, ""), 400, badParam, namesSpace, false},
		{"V2 NUL in MobileNumber, initiate", v2(acmeKey, "CreateChatappMigrationInitiate", map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "86", "MobileNumber": "138\x00"}, ""), 400, badParam, `"MobileNumber"`, false},
		{"V2 NUL in CustSpaceId, XML", v2(acmeKey, actionGetVC, vc("CustSpaceId", nul, "Format", "XML"), ""), 400, badParam, namesSpace, true},
		{"bad bytes before presence", v2(acmeKey, actionGetVC, vc("CustSpaceId", nul, "Locale", ""), ""), 400, badParam, namesSpace, false},
		{"RAM before bad bytes", func(t *testing.T, m *Main) signedCall {
			q := signedV2("GET", readKey, readSecret, actionGetVC, vc("CustSpaceId", nul), time.Now(), freshNonce(t))
			return signedCall{method: "GET", url: m.URL + "/?" + q.Encode()}
		}, 400, "Ram.PermissionDeny", "", false},
		{"V2 NUL in AccessKeyId", v2(acmeKey+"\x00", actionGetVC, vc(), ""), 404, badKey, "", false},
		{"V2 invalid UTF-8 in AccessKeyId", v2(acmeKey+"\xff", actionGetVC, vc(), ""), 404, badKey, "", false},
		{"V2 200-byte AccessKeyId", v2(strings.Repeat("k", 200), actionGetVC, vc(), ""), 404, badKey, "", false},
		{"V3 invalid UTF-8 in the credential", v3(acmeKey+"\xff", vc(), ""), 404, badKey, "", false},
		{"V2 invalid UTF-8 in SignatureNonce", v2(acmeKey, actionGetVC, vc(), "nonce-\xff"), 400, badNonce, "", false},
		{"V2 NUL in SignatureNonce", v2(acmeKey, actionGetVC, vc(), "nonce-\x00"), 400, badNonce, "", false},
		{"V2 200-byte SignatureNonce", v2(acmeKey, actionGetVC, vc(), strings.Repeat("n", 200)), 400, badNonce, "", false},
		{"V3 invalid UTF-8 in the nonce", v3(acmeKey, vc(), "nonce-\xff"), 400, badNonce, "", false},
	}
}

func freshNonce(t *testing.T) string {
	t.Helper()
	n, err := newNonce()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBadBytes_EveryStore: each request answers the same HTTP status and Code on SQLite, on
// PostgreSQL alone and on PostgreSQL with Redis, in a well-formed body with a RequestId, and
// camsd logs no ERROR (no store was handed text it refuses).
func TestBadBytes_EveryStore(t *testing.T) {
	for _, mode := range storeModes() {
		t.Run(mode.name, func(t *testing.T) {
			cfg := mode.config(t)
			cfg.QPS = 10_000 // flow control has its own tests
			m, log := startLogged(t, cfg)
			var ids []string
			for _, tc := range badBytesCases() {
				t.Run(tc.name, func(t *testing.T) {
					c := tc.req(t, m)
					r := sendSigned(t, c)
					if !utf8.ValidString(r.Raw) || strings.ContainsRune(r.Raw, 0) {
						t.Errorf("the body is not UTF-8 text: %q", r.Raw)
					}
					if tc.xml {
						r = parseXMLError(t, r)
					}
					assertEnvelope(t, r, tc.status, tc.code)
					if tc.msgHas != "" && !strings.Contains(r.str("Message"), tc.msgHas) {
						t.Errorf("message %q does not name %s", r.str("Message"), tc.msgHas)
					}
					ids = append(ids, r.str("RequestId"))
				})
			}
			checkLogged(t, log, ids)
		})
	}
}

// sendSigned sends c as it was signed.
func sendSigned(t *testing.T, c signedCall) rawReply {
	t.Helper()
	h := map[string]string{}
	for k, vs := range c.header {
		h[k] = vs[0]
	}
	return send(t, c.method, c.url, nil, h)
}

// parseXMLError reads an <Error> body into r.Body as send does a JSON one.
func parseXMLError(t *testing.T, r rawReply) rawReply {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("Content-Type %q, want XML\n%s", ct, r.Raw)
	}
	var e struct {
		RequestId, HostId, Code, Message, Recommend string //nolint:revive // wire names
	}
	if err := xml.Unmarshal([]byte(r.Raw), &e); err != nil {
		t.Fatalf("reply is not XML: %v\n%s", err, r.Raw)
	}
	r.Body = map[string]any{"RequestId": e.RequestId, "HostId": e.HostId, "Code": e.Code, "Message": e.Message, "Recommend": e.Recommend}
	return r
}

// checkLogged waits until camsd logged a line for each request id, then fails t on any line
// at level ERROR.
func checkLogged(t *testing.T, log *lockedBuffer, ids []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		missing := ""
		for _, id := range ids {
			if !strings.Contains(log.String(), `"request_id":"`+id+`"`) {
				missing = id
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line for request %s", missing)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sc := bufio.NewScanner(strings.NewReader(log.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct{ Level string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Level == "ERROR" {
			t.Errorf("camsd logged an error: %s", sc.Text())
		}
	}
}

package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/camsd/camsd"
	"github.com/camsd/camsd/acs"
	"github.com/camsd/camsd/migration"
)

const (
	actionGetVC = "GetMigrationVerifyCode"
	defaultQPS  = 10
	acmeUID     = "1000000000000001"
	fastUID     = "1000000000000002" // its own qps
	unsubUID    = "1000000000000003" // has not activated CAMS
	acmeSpace   = "293483938849493"
	migrating   = "8613800001234"
	migratingID = "82828893332"

	allowGetVC = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:GetMigrationVerifyCode","Resource":"*"}]}`
	allowList  = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:List*","Resource":"*"}]}`
)

// testKey is an AccessKey of the fixture's tenants.
type testKey struct{ id, secret string }

var (
	acmeRoot   = testKey{"LTAI5tAcmeRoot00000001", "acmeRootSecret0000000000000001"}
	acmeOps    = testKey{"LTAI5tAcmeOps000000001", "acmeOpsSecret00000000000001"}    // RAM user allowed
	acmeReader = testKey{"LTAI5tAcmeRead00000001", "acmeReadSecret0000000000001"}    // RAM user without permission
	acmeBroken = testKey{"LTAI5tAcmeBroke0000001", "acmeBrokenSecret00000000001"}    // RAM user whose stored policy does not parse
	fastRoot   = testKey{"LTAI5tFastRoot00000001", "fastRootSecret0000000000000001"} // account qps 3
	unsubRoot  = testKey{"LTAI5tUnsubRoot0000001", "unsubRootSecret000000000000001"}
	unsubRead  = testKey{"LTAI5tUnsubRead0000001", "unsubReadSecret000000000000001"} // RAM user without permission
	everyKey   = []testKey{acmeRoot, acmeOps, acmeReader, acmeBroken, fastRoot, unsubRoot, unsubRead}
)

// principals are the fixture's tenants, by AccessKey id.
func principals() map[string]*camsd.Principal {
	acme := camsd.Account{UID: acmeUID, Name: "acme", Subscribed: true}
	fast := camsd.Account{UID: fastUID, Name: "fast", Subscribed: true, QPS: 3}
	unsub := camsd.Account{UID: unsubUID, Name: "unsub", Subscribed: false}
	p := func(k testKey, a camsd.Account, user string, policies ...string) *camsd.Principal {
		pr := &camsd.Principal{
			Key:     camsd.AccessKey{ID: k.id, Secret: k.secret, UID: a.UID, UserName: user, Status: camsd.KeyActive},
			Account: a,
		}
		if user != "" {
			pr.User = &camsd.User{UID: a.UID, Name: user, Policies: policies}
		}
		return pr
	}
	out := map[string]*camsd.Principal{}
	for _, pr := range []*camsd.Principal{
		p(acmeRoot, acme, ""),
		p(acmeOps, acme, "ops", allowGetVC),
		p(acmeReader, acme, "reader", allowList),
		p(acmeBroken, acme, "broken", `{"Version":"1","Statement":`),
		p(fastRoot, fast, ""),
		p(unsubRoot, unsub, ""),
		p(unsubRead, unsub, "reader", allowList),
	} {
		out[pr.Key.ID] = pr
	}
	return out
}

// fixture is a Server over fakes that, unchanged, answers every call of acme's with success.
// Tests change the fakes' functions before sending.
type fixture struct {
	srv      *Server
	store    *fakeStore
	nonces   *fakeNonces
	limiter  *fakeLimiter
	provider *fakeProvider
	log      *bytes.Buffer
	now      time.Time
	sent     []camsd.CodeMessage // what the provider was handed
	nonce    int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{log: &bytes.Buffer{}, now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	now := func() time.Time { return f.now }
	keys := principals()
	f.store = &fakeStore{
		PrincipalFn: func(_ context.Context, id string) (*camsd.Principal, error) {
			if p, ok := keys[id]; ok {
				return p, nil
			}
			return nil, camsd.ErrNotFound
		},
		SpaceFn: func(_ context.Context, id string) (*camsd.Space, error) {
			if id != acmeSpace {
				return nil, camsd.ErrNotFound
			}
			return &camsd.Space{CustSpaceID: acmeSpace, UID: acmeUID, Name: "customer-a"}, nil
		},
		PhoneNumberFn: func(_ context.Context, space, number string) (*camsd.PhoneNumber, error) {
			if space != acmeSpace || number != migrating {
				return nil, camsd.ErrNotFound
			}
			return &camsd.PhoneNumber{CustSpaceID: space, Number: number, ID: migratingID, Status: camsd.StatusMigrating}, nil
		},
		SaveCodeFn: func(context.Context, *camsd.Call, camsd.VerifyCode, time.Time) error { return nil },
		SetCodeStatusFn: func(context.Context, string, string, time.Time, camsd.DeliveryStatus) error {
			return nil
		},
		PingFn: func(context.Context) error { return nil },
	}
	f.nonces = &fakeNonces{UseFn: func(context.Context, string, string, time.Time) error { return nil }}
	f.limiter = &fakeLimiter{AllowFn: func(context.Context, string, int) (camsd.Decision, error) {
		return camsd.Decision{Allowed: true, At: f.now}, nil
	}}
	f.provider = &fakeProvider{SendCodeFn: func(_ context.Context, m camsd.CodeMessage) error {
		f.sent = append(f.sent, m)
		return nil
	}}
	// The time attribute is dropped so that a test can search the whole output for a code
	// without meeting it by chance in a timestamp's nanoseconds.
	h := slog.NewJSONHandler(f.log, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	f.srv = &Server{
		Auth: &acs.Authenticator{
			Versions: map[string]bool{Version: true},
			Actions:  KnownAction,
			Keys:     f.store,
			Nonces:   f.nonces,
			Now:      now,
		},
		Limiter: f.limiter,
		Store:   f.store,
		Migration: &migration.Service{
			Store:          f.store,
			Provider:       f.provider,
			Now:            now,
			ResendInterval: time.Minute,
		},
		QPS:    defaultQPS,
		Logger: slog.New(h),
		Now:    now,
	}
	return f
}

// forbidAction makes the test fail if the call reaches the action: the store's action-level
// methods and the provider.
func (f *fixture) forbidAction(t *testing.T) {
	t.Helper()
	fail := func(what string) error { t.Errorf("the call reached %s", what); return errNotStubbed }
	f.store.SpaceFn = func(context.Context, string) (*camsd.Space, error) { return nil, fail("Store.Space") }
	f.store.PhoneNumberFn = func(context.Context, string, string) (*camsd.PhoneNumber, error) {
		return nil, fail("Store.PhoneNumber")
	}
	f.store.LastCodeFn = func(context.Context, string, string) (*camsd.VerifyCode, error) {
		return nil, fail("Store.LastCode")
	}
	f.store.SaveCodeFn = func(context.Context, *camsd.Call, camsd.VerifyCode, time.Time) error { return fail("Store.SaveCode") }
	f.store.SetCodeStatusFn = func(context.Context, string, string, time.Time, camsd.DeliveryStatus) error {
		return fail("Store.SetCodeStatus")
	}
	f.provider.SendCodeFn = func(context.Context, camsd.CodeMessage) error { return fail("Provider.SendCode") }
}

// getVC is a complete set of GetMigrationVerifyCode parameters; kv pairs change them, and
// an empty value removes the parameter.
func getVC(kv ...string) map[string]string {
	p := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating, "Locale": "en_US", "Method": "sms"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(p, kv[i])
		} else {
			p[kv[i]] = kv[i+1]
		}
	}
	return p
}

// signed returns the params of a V2 (HMAC-SHA1) call signed by the official darabonba signer
// at the fixture's time with a fresh nonce.
func (f *fixture) signed(method string, k testKey, params map[string]string) url.Values {
	f.nonce++
	all := map[string]*string{
		"AccessKeyId":      dara.String(k.id),
		"Action":           dara.String(actionGetVC),
		"Format":           dara.String("JSON"),
		"SignatureMethod":  dara.String("HMAC-SHA1"),
		"SignatureNonce":   dara.String(fmt.Sprintf("httpapi-test-%d", f.nonce)),
		"SignatureVersion": dara.String("1.0"),
		"Timestamp":        dara.String(f.now.UTC().Format("2006-01-02T15:04:05Z")),
		"Version":          dara.String(Version),
	}
	for k, v := range params {
		all[k] = dara.String(v)
	}
	sig := openapiutil.GetRPCSignature(all, dara.String(method), dara.String(k.secret))
	q := url.Values{}
	for k, v := range all {
		q.Set(k, *v)
	}
	q.Set("Signature", *sig)
	return q
}

// get is a signed GET with everything in the query.
func (f *fixture) get(k testKey, params map[string]string) *http.Request {
	return httptest.NewRequest(http.MethodGet, "/?"+f.signed(http.MethodGet, k, params).Encode(), nil)
}

// response is a reply as a client reads it; Body holds the top-level fields of a JSON or XML
// envelope.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r response) str(k string) string { s, _ := r.Body[k].(string); return s }

func (f *fixture) serve(t *testing.T, req *http.Request) response {
	t.Helper()
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{Status: res.StatusCode, Header: res.Header, Raw: string(b), Body: map[string]any{}}
	switch ct := res.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		if err := json.Unmarshal(b, &out.Body); err != nil {
			t.Fatalf("reply is not JSON: %v\n%s", err, b)
		}
	case strings.HasPrefix(ct, "text/xml"):
		var x struct{ RequestId, Code, Message string }
		if err := xml.Unmarshal(b, &x); err != nil {
			t.Fatalf("reply is not XML: %v\n%s", err, b)
		}
		out.Body["RequestId"], out.Body["Code"], out.Body["Message"] = x.RequestId, x.Code, x.Message
	}
	return out
}

// logLines returns the log's JSON lines.
func (f *fixture) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(f.log.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, sc.Bytes())
		}
		out = append(out, m)
	}
	return out
}

// requestLog returns the one request log line with that request id.
func (f *fixture) requestLog(t *testing.T, requestID string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, l := range f.logLines(t) {
		if l["msg"] == "request" && l["request_id"] == requestID {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d request log lines with request_id %q, want 1; log:\n%s", len(found), requestID, f.log)
	}
	return found[0]
}

package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/acs"
	"github.com/google/go-cmp/cmp"
)

// TestServer_InternalError: an error no layer expected answers HTTP 500 InternalError with
// the catalogue's message, its text never reaches the client, and the request's one log line
// carries it with the RequestId of the reply.
func TestServer_InternalError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		key     testKey
		setup   func(f *fixture)
		errText string // what the log must carry and the body must not
	}{
		{"store", acmeRoot, func(f *fixture) {
			f.store.SpaceFn = func(context.Context, string) (*camsd.Space, error) { return nil, errors.New("disk on fire") }
		}, "disk on fire"},
		{"limiter", acmeRoot, func(f *fixture) {
			f.limiter.AllowFn = func(context.Context, string, int) (camsd.Decision, error) {
				return camsd.Decision{}, errors.New("limiter lost its shards")
			}
		}, "limiter lost its shards"},
		{"key lookup", acmeRoot, func(f *fixture) {
			f.store.PrincipalFn = func(context.Context, string) (*camsd.Principal, error) { return nil, errors.New("database is locked") }
		}, "database is locked"},
		{"nonce store", acmeRoot, func(f *fixture) {
			f.nonces.UseFn = func(context.Context, string, string, time.Time) error { return errors.New("nonce table corrupt") }
		}, "nonce table corrupt"},
		{"provider", acmeRoot, func(f *fixture) {
			f.provider.SendCodeFn = func(context.Context, camsd.CodeMessage) error { return errors.New("gateway refused") }
		}, "gateway refused"},
		{"stored policy", acmeBroken, func(*fixture) {}, "stored policy does not parse"},
		{"code not durable", acmeRoot, func(f *fixture) {
			f.store.SaveCodeFn = func(_ context.Context, call *camsd.Call, _ camsd.VerifyCode, _ time.Time) error {
				return call.Defer(func() error { return errors.New("fsync failed") })
			}
		}, "fsync failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.setup(f)
			r := f.serve(t, f.get(tc.key, getVC()))

			want := map[string]any{"Status": http.StatusInternalServerError, "Code": camsd.CodeInternalError, "Message": acs.Message(camsd.CodeInternalError)}
			got := map[string]any{"Status": r.Status, "Code": r.str("Code"), "Message": r.str("Message")}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s\n%s", diff, r.Raw)
			}
			if strings.Contains(r.Raw, tc.errText) {
				t.Errorf("the error's text reached the client: %s", r.Raw)
			}
			if id := r.str("RequestId"); id == "" || r.Header.Get("x-acs-request-id") != id {
				t.Errorf("x-acs-request-id %q, RequestId %q", r.Header.Get("x-acs-request-id"), id)
			}
			line := f.requestLog(t, r.str("RequestId"))
			if line["level"] != "ERROR" || line["code"] != camsd.CodeInternalError {
				t.Errorf("log line: level %v, code %v; want ERROR, InternalError", line["level"], line["code"])
			}
			if e, _ := line["err"].(string); !strings.Contains(e, tc.errText) {
				t.Errorf("log line err = %q, want it to carry %q", e, tc.errText)
			}
		})
	}
}

// TestServer_LogLines: one line per request, the error text only for InternalError, and no
// secret or verification code anywhere in the log.
func TestServer_LogLines(t *testing.T) {
	f := newFixture(t)
	type line struct{ Level, Code, Account, AccessKeyID, Action string }
	var want, got []line
	check := func(req *http.Request, w line) {
		t.Helper()
		r := f.serve(t, req)
		l := f.requestLog(t, r.str("RequestId"))
		s := func(k string) string { v, _ := l[k].(string); return v }
		got = append(got, line{s("level"), s("code"), s("account"), s("access_key_id"), s("action")})
		want = append(want, w)
		if _, hasErr := l["err"]; hasErr != (w.Code == camsd.CodeInternalError) {
			t.Errorf("%s: log line has err: %v", w.Code, hasErr)
		}
	}
	check(f.get(acmeRoot, getVC()), line{"INFO", "OK", acmeUID, acmeRoot.id, actionGetVC})
	check(f.get(acmeOps, getVC("Method", "voice")), line{"INFO", "OK", acmeUID, acmeOps.id, actionGetVC})
	check(f.get(acmeReader, getVC()), line{"INFO", "Ram.PermissionDeny", acmeUID, acmeReader.id, actionGetVC})
	check(f.get(acmeRoot, getVC("Locale", "")), line{"INFO", "MissingLocale", acmeUID, acmeRoot.id, actionGetVC})
	check(f.get(testKey{acmeRoot.id, "not-the-secret"}, getVC()), line{"INFO", "SignatureDoesNotMatch", "", "", actionGetVC})
	f.store.SaveCodeFn = func(context.Context, *camsd.Call, camsd.VerifyCode, time.Time) error {
		return errors.New("disk on fire")
	}
	check(f.get(acmeRoot, getVC()), line{"ERROR", "InternalError", acmeUID, acmeRoot.id, actionGetVC})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}

	if n := len(f.logLines(t)); n != len(want) {
		t.Errorf("%d log lines for %d requests:\n%s", n, len(want), f.log)
	}
	if len(f.sent) != 2 {
		t.Fatalf("provider got %d codes, want 2", len(f.sent))
	}
	log := f.log.String()
	for _, k := range everyKey {
		if strings.Contains(log, k.secret) {
			t.Errorf("the log holds the secret of %s", k.id)
		}
	}
	for _, m := range f.sent {
		if strings.Contains(log, m.Code) {
			t.Errorf("the log holds the code sent to %s", m.PhoneNumber)
		}
	}
}

// TestServer_OrderOfChecks: the first failing check answers, in the order protocol (1), flow
// control (2), subscription (3), RAM (4), parameters (5); a call refused before the action
// never reaches the store's action methods nor the provider, and a call refused by the
// protocol is not shown to the limiter.
func TestServer_OrderOfChecks(t *testing.T) {
	for _, tc := range []struct {
		name         string
		key          testKey
		params       map[string]string
		limited      bool // the limiter refuses
		status       int
		code         string
		limiterCalls int
	}{
		{"protocol before flow control", testKey{unsubRoot.id, "wrong"}, getVC(), true, 400, "SignatureDoesNotMatch", 0},
		{"flow control before subscription", unsubRoot, getVC(), true, 400, "System.LimitControl", 1},
		{"flow control before RAM", unsubRead, getVC(), true, 400, "System.LimitControl", 1},
		{"flow control before parameters", acmeReader, getVC("CustSpaceId", "", "Method", "fax"), true, 400, "System.LimitControl", 1},
		{"subscription before RAM", unsubRead, getVC(), false, 400, "Product.Unsubscript", 1},
		{"subscription before parameters", unsubRoot, getVC("PhoneNumber", ""), false, 400, "Product.Unsubscript", 1},
		{"RAM before parameters", acmeReader, getVC("CustSpaceId", "", "PhoneNumber", "", "Locale", "", "Method", ""), false, 400, "Ram.PermissionDeny", 1},
		{"parameter presence", acmeOps, getVC("Locale", "", "Method", "fax"), false, 400, "MissingLocale", 1},
		{"parameter values before the store", acmeRoot, getVC("Method", "fax"), false, 400, "InvalidParameter", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.forbidAction(t)
			calls := 0
			f.limiter.AllowFn = func(context.Context, string, int) (camsd.Decision, error) {
				calls++
				if tc.limited {
					return camsd.Decision{RetryAfter: 250 * time.Millisecond, At: f.now}, nil
				}
				return camsd.Decision{Allowed: true, At: f.now}, nil
			}
			r := f.serve(t, f.get(tc.key, tc.params))
			if r.Status != tc.status || r.str("Code") != tc.code {
				t.Fatalf("HTTP %d %s, want HTTP %d %s\n%s", r.Status, r.str("Code"), tc.status, tc.code, r.Raw)
			}
			if calls != tc.limiterCalls {
				t.Errorf("limiter asked %d times, want %d", calls, tc.limiterCalls)
			}
			switch tc.code {
			case camsd.CodeSystemLimitControl:
				if got := r.Header.Get("Retry-After"); got != "1" {
					t.Errorf("Retry-After = %q, want 1 (250ms in seconds, rounded up)", got)
				}
				if got := r.Header.Get("x-acs-retry-after"); got != "250" {
					t.Errorf("x-acs-retry-after = %q, want 250 (ms)", got)
				}
			case camsd.CodeRAMPermissionDeny:
				if _, ok := r.Body["AccessDeniedDetail"].(map[string]any); !ok {
					t.Errorf("AccessDeniedDetail is not an object: %s", r.Raw)
				}
			}
		})
	}
}

// TestServer_FlowControlKey: the limiter is asked about one key per account and action,
// shared by the account's own keys and its RAM users, with the account's qps when it has one
// and the server's otherwise.
func TestServer_FlowControlKey(t *testing.T) {
	type ask struct {
		Key   string
		Limit int
	}
	f := newFixture(t)
	var got []ask
	f.limiter.AllowFn = func(_ context.Context, key string, limit int) (camsd.Decision, error) {
		got = append(got, ask{key, limit})
		return camsd.Decision{Allowed: true, At: f.now}, nil
	}
	for _, k := range []testKey{acmeRoot, acmeOps, fastRoot} {
		if r := f.serve(t, f.get(k, getVC())); r.Status == http.StatusInternalServerError {
			t.Fatalf("%s: %s", k.id, r.Raw)
		}
	}
	// The action table has one action; admit is what keys the limiter for any of them.
	p := principals()[fastRoot.id]
	if err := f.srv.admit(context.Background(), &camsd.Call{}, p, "ListPhoneNumber"); err != nil {
		t.Fatal(err)
	}
	want := []ask{
		{acmeUID + "/GetMigrationVerifyCode", defaultQPS},
		{acmeUID + "/GetMigrationVerifyCode", defaultQPS},
		{fastUID + "/GetMigrationVerifyCode", 3},
		{fastUID + "/ListPhoneNumber", 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("limiter asked (-want +got):\n%s", diff)
	}
}

// TestServer_RequestIDHeader: every reply, success or error, JSON or XML, carries
// x-acs-request-id equal to the body's RequestId and to the request_id of its log line.
func TestServer_RequestIDHeader(t *testing.T) {
	failSpace := func(f *fixture) {
		f.store.SpaceFn = func(context.Context, string) (*camsd.Space, error) { return nil, errors.New("disk on fire") }
	}
	limited := func(f *fixture) {
		f.limiter.AllowFn = func(context.Context, string, int) (camsd.Decision, error) {
			return camsd.Decision{RetryAfter: time.Second}, nil
		}
	}
	asXML := func(kv ...string) map[string]string { return getVC(append([]string{"Format", "XML"}, kv...)...) }
	for _, tc := range []struct {
		name  string
		setup func(f *fixture)
		req   func(f *fixture) *http.Request
		code  string
	}{
		{"success", nil, func(f *fixture) *http.Request { return f.get(acmeRoot, getVC()) }, "OK"},
		{"success XML", nil, func(f *fixture) *http.Request { return f.get(acmeRoot, asXML()) }, "OK"},
		{"success form body", nil, func(f *fixture) *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(f.signed(http.MethodPost, acmeRoot, getVC()).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}, "OK"},
		{"parameter error", nil, func(f *fixture) *http.Request { return f.get(acmeRoot, getVC("Method", "")) }, "MissingMethod"},
		{"parameter error XML", nil, func(f *fixture) *http.Request { return f.get(acmeRoot, asXML("Method", "")) }, "MissingMethod"},
		{"RAM denial XML", nil, func(f *fixture) *http.Request { return f.get(acmeReader, asXML()) }, "Ram.PermissionDeny"},
		{"flow control", limited, func(f *fixture) *http.Request { return f.get(acmeRoot, getVC()) }, "System.LimitControl"},
		{"internal error", failSpace, func(f *fixture) *http.Request { return f.get(acmeRoot, getVC()) }, "InternalError"},
		{"internal error XML", failSpace, func(f *fixture) *http.Request { return f.get(acmeRoot, asXML()) }, "InternalError"},
		{"unsigned", nil, func(*fixture) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/?Action=GetMigrationVerifyCode&Version=2020-06-06", nil)
		}, "IncompleteSignature"},
		{"undecodable query", nil, func(*fixture) *http.Request { return httptest.NewRequest(http.MethodGet, "/?Action=%zz", nil) }, "InvalidParameter"},
		{"body too large", nil, func(*fixture) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("a", maxBody+1)))
		}, "InvalidParameter"},
		{"method", nil, func(*fixture) *http.Request { return httptest.NewRequest(http.MethodPut, "/", nil) }, "UnsupportedHTTPMethod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			r := f.serve(t, tc.req(f))
			if r.str("Code") != tc.code {
				t.Fatalf("HTTP %d %q, want %s\n%s", r.Status, r.str("Code"), tc.code, r.Raw)
			}
			id := r.str("RequestId")
			if id == "" || r.Header.Get("x-acs-request-id") != id {
				t.Errorf("x-acs-request-id %q, RequestId %q\n%s", r.Header.Get("x-acs-request-id"), id, r.Raw)
			}
			if got := f.requestLog(t, id)["code"]; got != tc.code {
				t.Errorf("log line code = %v, want %s", got, tc.code)
			}
		})
	}
}

// trackingStore is a fakeStore that is a camsd.Tracker.
type trackingStore struct {
	*fakeStore
	running camsd.Running
}

func (s *trackingStore) Track(call *camsd.Call) { s.running.Track(call) }

// A call runs (camsd.Running) from its request read to its reply, except while it waits for
// the provider; once answered, ok or refused, it no longer counts, so that no writer waits for it.
func TestServer_TracksRunningCalls(t *testing.T) {
	f := newFixture(t)
	ts := &trackingStore{fakeStore: f.store}
	f.srv.Store = ts
	var atSave, atSend int64 = -1, -1
	f.store.SaveCodeFn = func(_ context.Context, call *camsd.Call, _ camsd.VerifyCode, _ time.Time) error {
		atSave = ts.running.Count()
		return nil
	}
	f.provider.SendCodeFn = func(context.Context, camsd.CodeMessage) error {
		atSend = ts.running.Count()
		return nil
	}
	if r := f.serve(t, f.get(acmeRoot, getVC())); r.str("Code") != camsd.CodeOK {
		t.Fatalf("reply %s", r.Raw)
	}
	if atSave != 1 || atSend != 0 {
		t.Errorf("running calls when the code is saved: %d, when the provider sends it: %d; want 1 and 0", atSave, atSend)
	}
	if n := ts.running.Count(); n != 0 {
		t.Errorf("%d calls running after the reply; want 0", n)
	}
	if r := f.serve(t, f.get(acmeReader, getVC())); r.str("Code") != "Ram.PermissionDeny" {
		t.Fatalf("reply %s", r.Raw)
	}
	if n := ts.running.Count(); n != 0 {
		t.Errorf("%d calls running after a refusal; want 0", n)
	}
}

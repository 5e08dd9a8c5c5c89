package acs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

const (
	testKeyID    = "testid"
	testSecret   = "testsecret"
	testVersion  = "2020-06-06"
	testAction   = "GetMigrationVerifyCode"
	inactiveKey  = "inactive-id"
	brokenKey    = "broken-id" // its lookup fails with errLookup
	emptyBodySum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

var errLookup = &lookupError{}

type lookupError struct{}

func (*lookupError) Error() string { return "store unavailable" }

// keys is a KeyLookup over a fixed set of keys.
type keys map[string]camsd.KeyStatus

func (k keys) Principal(_ context.Context, id string) (*camsd.Principal, error) {
	if id == brokenKey {
		return nil, errLookup
	}
	st, ok := k[id]
	if !ok {
		return nil, camsd.ErrNotFound
	}
	return &camsd.Principal{
		Key:     camsd.AccessKey{ID: id, Secret: testSecret, UID: "1234567890", Status: st},
		Account: camsd.Account{UID: "1234567890", Subscribed: true},
	}, nil
}

var _ KeyLookup = keys(nil)

// nonces is a NonceStore in memory that records its calls. err, when set, is returned by Use.
type nonces struct {
	mu   sync.Mutex
	used map[string]time.Time
	err  error
}

var _ camsd.NonceStore = (*nonces)(nil)

func (n *nonces) Use(_ context.Context, _ *camsd.Call, id, nonce string, expires time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return n.err
	}
	if n.used == nil {
		n.used = map[string]time.Time{}
	}
	k := id + "\x00" + nonce
	if _, ok := n.used[k]; ok {
		return camsd.ErrNonceUsed
	}
	n.used[k] = expires
	return nil
}

func (n *nonces) len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.used)
}

// newAuthenticator returns an Authenticator whose clock reads now.
func newAuthenticator(now time.Time) (*Authenticator, *nonces) {
	ns := &nonces{}
	return &Authenticator{
		Versions: map[string]bool{testVersion: true},
		Actions:  func(_, a string) bool { return a == testAction },
		Keys:     keys{testKeyID: camsd.KeyActive, inactiveKey: camsd.KeyInactive, brokenKey: camsd.KeyActive},
		Nonces:   ns,
		MaxSkew:  15 * time.Minute,
		Now:      func() time.Time { return now },
	}, ns
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// httpRequest is what net/http hands a handler for such a request: Host in r.Host, not
// in r.Header.
func httpRequest(method, host, rawQuery string, header map[string]string, body string) *http.Request {
	target := "/"
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = host
	for k, v := range header {
		if strings.EqualFold(k, "host") {
			r.Host = v
			continue
		}
		r.Header.Set(k, v) // the server canonicalizes names as it reads them
	}
	return r
}

// authenticate parses r and authenticates it.
func authenticate(t testing.TB, a *Authenticator, r *http.Request, body string) (*Request, *camsd.Principal, error) {
	t.Helper()
	req, err := ParseRequest(r, []byte(body))
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	p, err := a.Authenticate(context.Background(), nil, req)
	return req, p, err
}

// code returns the wire code of err, "" for nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	return camsd.ErrorCode(err)
}

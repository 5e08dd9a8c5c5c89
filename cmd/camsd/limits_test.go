package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMaxNonces: an AccessKey holding --max-nonces live nonces gets 503 ServiceUnavailable
// for a call with a new nonce; other keys are not affected.
func TestMaxNonces(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxNonces = 2
	m := start(t, cfg)
	now := time.Now()
	get := func(key, secret, space, nonce string) rawReply {
		t.Helper()
		q := signedV2("GET", key, secret, actionGetVC, verifyCodeQuery(space, notInSpace, "en_US", "sms"), now, nonce)
		return send(t, "GET", m.URL+"/?"+q.Encode(), nil, nil)
	}
	for i := range 2 {
		assertEnvelope(t, get(acmeKey, acmeSecret, acmeSpace, fmt.Sprintf("max-nonces-%d", i)), 400, "PhoneNumber.NotFound")
	}
	assertEnvelope(t, get(acmeKey, acmeSecret, acmeSpace, "max-nonces-2"), 503, "ServiceUnavailable")
	assertEnvelope(t, get(acmeKey, acmeSecret, acmeSpace, "max-nonces-0"), 400, "SignatureNonceUsed")
	assertEnvelope(t, get(otherKey, otherSecret, otherSpace, "max-nonces-2"), 400, "PhoneNumber.NotFound")
}

// TestFlowControl_AccountQPS: a seed's per-account qps replaces --qps for that account, above
// or below it, and the others keep --qps. The server's clock is held so that every call falls
// in one rolling second until the test moves it.
func TestFlowControl_AccountQPS(t *testing.T) {
	seed := `accounts:
  - uid: "2000000000000001"
    qps: 3
    access_keys: [{id: LTAI5tSlowRoot00000001, secret: slowRootSecret0000000000000001}]
  - uid: "2000000000000002"
    qps: 8
    access_keys: [{id: LTAI5tBigRoot000000001, secret: bigRootSecret00000000000000001}]
  - uid: "2000000000000003"
    access_keys: [{id: LTAI5tPlainRoot0000001, secret: plainRootSecret000000000000001}]
`
	cfg := testConfig(t)
	cfg.QPS = 5
	cfg.Seed = filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(cfg.Seed, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	m := startAt(t, cfg, clk.Now)

	// The accounts own no space: a call admitted by flow control answers
	// Unknown.ResourceOwnerId.
	burst := func(key, secret string, n int) (admitted, limited int) {
		t.Helper()
		c := newClient(t, m, key, secret, "")
		for range n {
			_, err := call(c, actionGetVC, verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms"))
			switch code := asSDKError(t, err).Code; code {
			case "Unknown.ResourceOwnerId":
				admitted++
			case "System.LimitControl":
				limited++
			default:
				t.Fatalf("%s: unexpected %s", key, code)
			}
		}
		return admitted, limited
	}
	for _, second := range []string{"first second", "a second later"} {
		clk.Add(time.Second)
		for _, tc := range []struct {
			key, secret string
			qps         int
		}{
			{"LTAI5tSlowRoot00000001", "slowRootSecret0000000000000001", 3},
			{"LTAI5tBigRoot000000001", "bigRootSecret00000000000000001", 8},
			{"LTAI5tPlainRoot0000001", "plainRootSecret000000000000001", 5},
		} {
			if a, l := burst(tc.key, tc.secret, tc.qps+2); a != tc.qps || l != 2 {
				t.Errorf("%s, %s: %d admitted, %d limited; want %d and 2", second, tc.key, a, l, tc.qps)
			}
		}
	}
}

// TestMaxSkew_ServerClock: the official client's timestamp is refused when the server's clock
// is more than --max-skew (15 minutes) from it, either way, and accepted within it.
func TestMaxSkew_ServerClock(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shift time.Duration // of the server's clock from the client's
		code  string
	}{
		{"server 16 minutes ahead", 16 * time.Minute, "InvalidTimeStamp.Expired"},
		{"server 16 minutes behind", -16 * time.Minute, "InvalidTimeStamp.Expired"},
		{"server 14 minutes ahead", 14 * time.Minute, "PhoneNumber.NotFound"},
		{"server 14 minutes behind", -14 * time.Minute, "PhoneNumber.NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startAt(t, testConfig(t), func() time.Time { return time.Now().Add(tc.shift) })
			for _, alg := range []string{"", "v2"} {
				_, err := call(newClient(t, m, acmeKey, acmeSecret, alg), actionGetVC, verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms"))
				if e := asSDKError(t, err); e.Status != 400 || e.Code != tc.code {
					t.Errorf("%s: HTTP %d %s, want HTTP 400 %s", sigName(alg), e.Status, e.Code, tc.code)
				}
			}
		})
	}
}

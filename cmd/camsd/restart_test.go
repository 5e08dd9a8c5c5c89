package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestRestart_KeepsState: tenants, codes, the resend interval, captured messages and used
// nonces all survive a restart on the same data directory.
func TestRestart_KeepsState(t *testing.T) {
	cfg := testConfig(t)
	m := start(t, cfg)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	if _, err := call(c, actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")); err != nil {
		t.Fatal(err)
	}
	before := simMessages(t, m, "")
	now := time.Now()
	replay := signedV2("GET", acmeKey, acmeSecret, actionGetVC, verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms"), now, "restart-nonce")
	assertEnvelope(t, send(t, "GET", m.URL+"/?"+replay.Encode(), nil, nil), 400, "PhoneNumber.NotFound")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.Seed = "" // the tenants must come from the database now
	m2 := start(t, cfg)
	if after := simMessages(t, m2, ""); len(after) != len(before) || after[0].Code != before[0].Code {
		t.Fatalf("outbox after restart = %+v, before %+v", after, before)
	}
	_, err := call(newClient(t, m2, acmeKey, acmeSecret, ""), actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))
	if code := asSDKError(t, err).Code; code != "VerifyCode.SendTooFrequent" {
		t.Errorf("resend after restart: %s, want VerifyCode.SendTooFrequent", code)
	}
	assertEnvelope(t, send(t, "GET", m2.URL+"/?"+replay.Encode(), nil, nil), 400, "SignatureNonceUsed")
}

// TestDemoTenant: with no seed, an empty data dir gets a demo tenant whose printed lines are
// enough to call camsd with the official client.
func TestDemoTenant(t *testing.T) {
	cfg := testConfig(t)
	cfg.Seed = ""
	var out bytes.Buffer
	m := NewMain(cfg, &out, &bytes.Buffer{})
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	env := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			env[k] = v
		}
	}
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "CustSpaceId", "PhoneNumber"} {
		if env[k] == "" {
			t.Fatalf("demo output lacks %s:\n%s", k, out.String())
		}
	}
	// The aliyun CLI's variables: host:port without a scheme, and the region it must have.
	if env["ALIBABA_CLOUD_ENDPOINT"] != hostOf(m) || env["ALIBABA_CLOUD_REGION_ID"] != "ap-southeast-1" || env["CAMSD_ENDPOINT"] != m.URL {
		t.Errorf("endpoint lines: ALIBABA_CLOUD_ENDPOINT=%q ALIBABA_CLOUD_REGION_ID=%q CAMSD_ENDPOINT=%q; want %q, ap-southeast-1, %q",
			env["ALIBABA_CLOUD_ENDPOINT"], env["ALIBABA_CLOUD_REGION_ID"], env["CAMSD_ENDPOINT"], hostOf(m), m.URL)
	}
	c := newClient(t, m, env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"], "")
	if _, err := call(c, actionGetVC, verifyCodeQuery(env["CustSpaceId"], env["PhoneNumber"], "en_US", "sms")); err != nil {
		t.Fatalf("call with the demo tenant: %v", err)
	}
	if msgs := simMessages(t, m, env["PhoneNumber"]); len(msgs) != 1 {
		t.Fatalf("outbox = %+v", msgs)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camsd/camsd/graph/graphtest"
)

const testAdminToken = "exposure-token-00000000000000000000"

// get answers GET url's status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetrics_Listener: /metrics is never on the public listener; it is on the admin listener
// without the admin token (the admin API itself still needs it), or on --metrics-listen alone,
// which serves it without any admin API; with neither it is off.
func TestMetrics_Listener(t *testing.T) {
	const metric = "camsd_requests_total"
	notPublic := func(t *testing.T, m *Main) {
		t.Helper()
		if status, body := get(t, m.URL+"/metrics", ""); status == 200 || strings.Contains(body, metric) || strings.Contains(body, "go_info") {
			t.Errorf("public GET /metrics: %d\n%.300s", status, body)
		}
	}
	// One call, so that camsd_requests_total has a series.
	callOnce := func(t *testing.T, m *Main) {
		t.Helper()
		okBody(t, newClient(t, m, acmeKey, acmeSecret, ""), actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))
	}

	t.Run("on the admin listener, without the token", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.AdminToken = testAdminToken
		m := start(t, cfg)
		callOnce(t, m)
		notPublic(t, m)
		if m.MetricsURL != m.AdminURL+"/metrics" {
			t.Errorf("MetricsURL = %q, want the admin listener's %s/metrics", m.MetricsURL, m.AdminURL)
		}
		if status, body := get(t, m.MetricsURL, ""); status != 200 || !strings.Contains(body, metric) {
			t.Errorf("admin GET /metrics: %d\n%.300s", status, body)
		}
		if status, _ := get(t, m.AdminURL+"/admin/v1/accounts", ""); status != http.StatusUnauthorized {
			t.Errorf("admin API without the token: %d, want 401", status)
		}
		if status, _ := get(t, m.AdminURL+"/admin/v1/accounts", testAdminToken); status != 200 {
			t.Errorf("admin API with the token: %d, want 200", status)
		}
	})

	t.Run("on --metrics-listen, without an admin API", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MetricsListen = "127.0.0.1:0"
		m := start(t, cfg)
		callOnce(t, m)
		notPublic(t, m)
		if m.AdminURL != "" {
			t.Fatalf("admin API on without a token: %s", m.AdminURL)
		}
		if status, body := get(t, m.MetricsURL, ""); status != 200 || !strings.Contains(body, metric) {
			t.Errorf("GET %s: %d\n%.300s", m.MetricsURL, status, body)
		}
		if status, _ := get(t, strings.TrimSuffix(m.MetricsURL, "/metrics")+"/admin/v1/accounts", testAdminToken); status != http.StatusNotFound {
			t.Errorf("the metrics listener serves more than /metrics: %d", status)
		}
	})

	t.Run("on --metrics-listen only, with an admin API", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.AdminToken = testAdminToken
		cfg.MetricsListen = "127.0.0.1:0"
		m := start(t, cfg)
		if strings.HasPrefix(m.MetricsURL, m.AdminURL) {
			t.Fatalf("MetricsURL %s is on the admin listener %s", m.MetricsURL, m.AdminURL)
		}
		if status, body := get(t, m.AdminURL+"/metrics", ""); status == 200 || strings.Contains(body, metric) {
			t.Errorf("admin GET /metrics with --metrics-listen: %d\n%.300s", status, body)
		}
		if status, _ := get(t, m.MetricsURL, ""); status != 200 {
			t.Errorf("GET %s: %d", m.MetricsURL, status)
		}
	})

	t.Run("off with neither", func(t *testing.T) {
		m := start(t, testConfig(t))
		notPublic(t, m)
		if m.MetricsURL != "" {
			t.Errorf("MetricsURL = %q, want none", m.MetricsURL)
		}
	})
}

// TestAdminToken_TooShort: an admin token under 32 characters stops the start, saying which
// variable and how long it must be; none of the server is left serving.
func TestAdminToken_TooShort(t *testing.T) {
	dir := t.TempDir()
	args := []string{"serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--data-dir", dir}
	for _, token := range []string{"x", testAdminToken[:31]} {
		code, _, errOut := cli(t, map[string]string{"CAMSD_ADMIN_TOKEN": token}, "", args...)
		if code != 2 || !strings.Contains(errOut, "CAMSD_ADMIN_TOKEN") || !strings.Contains(errOut, "at least 32") {
			t.Errorf("token of %d characters: exit %d, stderr %q; want exit 2 naming CAMSD_ADMIN_TOKEN and 32", len(token), code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "camsd.db")); !os.IsNotExist(err) {
		t.Errorf("a refused start opened the database: %v", err)
	}
	// Main, as a program embedding camsd starts it, refuses it too.
	cfg := testConfig(t)
	cfg.AdminToken = "short"
	m := NewMain(cfg, io.Discard, io.Discard)
	err := m.Open(context.Background())
	_ = m.Close()
	if err == nil || !strings.Contains(err.Error(), "CAMSD_ADMIN_TOKEN") {
		t.Errorf("Open with a short token: %v", err)
	}
}

// TestDemoTenant_SecretPrintedOnce: the start that makes the demo tenant prints its secret;
// later starts print a line that reads demo.env (mode 0600) instead, and that line, pasted
// into a shell, still gives the key.
func TestDemoTenant_SecretPrintedOnce(t *testing.T) {
	cfg := testConfig(t)
	cfg.Seed = ""
	open := func() string {
		t.Helper()
		var out bytes.Buffer
		m := NewMain(cfg, &out, io.Discard)
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	first := open()
	path := filepath.Join(cfg.DataDir, demoFile)
	kept, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, %v; want 0600", path, fi.Mode().Perm(), err)
	}
	secret := envLine(string(kept), "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	if secret == "" || envLine(first, "ALIBABA_CLOUD_ACCESS_KEY_SECRET") != secret {
		t.Fatalf("first start printed no secret or another than demo.env's:\n%s", first)
	}
	second := open()
	if strings.Contains(second, secret) {
		t.Errorf("second start printed the secret again:\n%s", second)
	}
	abs, _ := filepath.Abs(path)
	if !strings.Contains(second, "\n. '"+abs+"'\n") || envLine(second, "CAMSD_ENDPOINT") == "" {
		t.Errorf("second start lacks the line that reads %s, or the endpoint:\n%s", abs, second)
	}
}

// envLine is the value of `export NAME=value` in shell lines.
func envLine(lines, name string) string {
	for _, l := range strings.Split(lines, "\n") {
		if v, ok := strings.CutPrefix(l, "export "+name+"="); ok {
			return v
		}
	}
	return ""
}

// TestDemoTenant_OnlyWithTheSimulator: --provider whatsapp on an empty data dir makes no demo
// tenant: a server that sends real codes has no key nobody asked for.
func TestDemoTenant_OnlyWithTheSimulator(t *testing.T) {
	g := graphtest.New(graphToken, "v21.0")
	t.Cleanup(g.Close)
	cfg := testConfig(t)
	cfg.Seed = ""
	cfg.Provider = "whatsapp"
	cfg.GraphURL = g.URL
	cfg.GraphToken = graphToken
	var out bytes.Buffer
	m := NewMain(cfg, &out, io.Discard)
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if empty, err := m.DB.Empty(context.Background()); err != nil || !empty {
		t.Errorf("database empty = %v, %v; want no demo tenant", empty, err)
	}
	if strings.Contains(out.String(), "ALIBABA_CLOUD_ACCESS_KEY") {
		t.Errorf("printed a demo key:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, demoFile)); !os.IsNotExist(err) {
		t.Errorf("%s written: %v", demoFile, err)
	}
}

// TestSim_BadQuery: the outbox over the public listener answers a query that is not
// percent-encoding with 400 and a JSON error, not with every message.
func TestSim_BadQuery(t *testing.T) {
	m := start(t, testConfig(t))
	okBody(t, newClient(t, m, acmeKey, acmeSecret, ""), actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))
	status, body := get(t, m.URL+"/_sim/messages?PhoneNumber=%zz", "")
	var e struct{ Code, Message string }
	if status != 400 || json.Unmarshal([]byte(body), &e) != nil || e.Code != "InvalidParameter" || strings.Contains(body, migrating) {
		t.Errorf("GET /_sim/messages?PhoneNumber=%%zz: %d %s; want 400 InvalidParameter without messages", status, body)
	}
}

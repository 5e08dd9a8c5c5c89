package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs a camsd command in-process and returns its exit code, stdout and stderr.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := run(context.Background(), args, getenv, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestOperatorJourney is README's path for a new user: start camsd with an admin token, make
// a tenant with `camsd admin`, call GetMigrationVerifyCode with `camsd call`, find the code.
func TestOperatorJourney(t *testing.T) {
	cfg := testConfig(t)
	cfg.Seed = ""
	cfg.AdminToken = "journey-token-00000000000000000000"
	m := start(t, cfg)
	if m.AdminURL == "" {
		t.Fatal("admin API not started with a token configured")
	}
	env := map[string]string{"CAMSD_ADMIN_TOKEN": "journey-token-00000000000000000000"}
	admin := func(args ...string) string {
		t.Helper()
		code, out, errOut := cli(t, env, "", append([]string{"admin", "--server", m.AdminURL}, args...)...)
		if code != 0 {
			t.Fatalf("camsd admin %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	admin("account", "create", "--uid", "2000000000000001", "--name", "shop", "--subscribed")
	admin("space", "create", "--uid", "2000000000000001", "--cust-space-id", "cs-shop", "--name", "Shop")
	admin("number", "add", "--cust-space-id", "cs-shop", "--phone-number", "6281234567890")
	var key struct{ AccessKeyId, AccessKeySecret string }
	if err := json.Unmarshal([]byte(admin("key", "create", "--uid", "2000000000000001", "--json")), &key); err != nil || key.AccessKeyId == "" || key.AccessKeySecret == "" {
		t.Fatalf("key create --json: %+v, %v", key, err)
	}
	if out := admin("account", "list"); !strings.Contains(out, "2000000000000001") || !strings.Contains(out, "shop") {
		t.Errorf("account list:\n%s", out)
	}
	if out := admin("key", "list", "--uid", "2000000000000001"); !strings.Contains(out, key.AccessKeyId) || strings.Contains(out, key.AccessKeySecret) {
		t.Errorf("key list must name the key and never its secret:\n%s", out)
	}

	callEnv := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": key.AccessKeyId, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key.AccessKeySecret}
	code, out, errOut := cli(t, callEnv, "", "call", "GetMigrationVerifyCode", "--endpoint", m.URL,
		"--CustSpaceId", "cs-shop", "--PhoneNumber", "6281234567890", "--Locale", "id", "--Method=sms")
	var body struct{ Code, RequestId string }
	if code != 0 || json.Unmarshal([]byte(out), &body) != nil || body.Code != "OK" || body.RequestId == "" {
		t.Fatalf("camsd call: exit %d\n%s%s", code, out, errOut)
	}
	msgs := simMessages(t, m, "6281234567890")
	if len(msgs) != 1 || !sixDigits.MatchString(msgs[0].Code) || msgs[0].Locale != "id" {
		t.Fatalf("outbox = %+v", msgs)
	}
	// The page a person opens to read the code (its browser test is in package sim).
	page, err := http.Get(m.URL + "/_sim/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /_sim/: %s %s", page.Status, page.Header.Get("Content-Type"))
	}
	// V2 signing, and an error reply: printed on stdout, exit 1.
	code, out, _ = cli(t, callEnv, "", "call", "GetMigrationVerifyCode", "--endpoint", m.URL, "--signature", "v2",
		"--CustSpaceId", "cs-shop", "--PhoneNumber", "6281234567890", "--Locale", "id", "--Method", "sms")
	if code != 1 || !strings.Contains(out, `"VerifyCode.SendTooFrequent"`) {
		t.Errorf("second code at once: exit %d\n%s", code, out)
	}
	if out := admin("audit", "list", "--phone-number", "6281234567890"); !strings.Contains(out, "GetMigrationVerifyCode") || !strings.Contains(out, "AdminAddNumber") || !strings.Contains(out, key.AccessKeyId) {
		t.Errorf("audit list:\n%s", out)
	}

	admin("key", "disable", "--id", key.AccessKeyId)
	code, out, _ = cli(t, callEnv, "", "call", "GetPhoneNumberVerificationStatus", "--endpoint", m.URL,
		"--CustSpaceId", "cs-shop", "--PhoneNumber", "6281234567890")
	if code != 1 || !strings.Contains(out, "InvalidAccessKeyId.Inactive") {
		t.Errorf("call with a disabled key: exit %d\n%s", code, out)
	}
}

func TestAdminCLI_Errors(t *testing.T) {
	cfg := testConfig(t)
	cfg.AdminToken = "right-token-0000000000000000000000"
	m := start(t, cfg)
	for _, tc := range []struct {
		name   string
		env    map[string]string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"wrong token", map[string]string{"CAMSD_ADMIN_TOKEN": "wrong"}, "", []string{"account", "list"}, 1, "Unauthorized"},
		{"no token", map[string]string{}, "", []string{"account", "list"}, 2, "CAMSD_ADMIN_TOKEN"},
		{"unknown command", map[string]string{"CAMSD_ADMIN_TOKEN": "right-token-0000000000000000000000"}, "", []string{"account", "explode"}, 2, "unknown command"},
		{"missing flag", map[string]string{"CAMSD_ADMIN_TOKEN": "right-token-0000000000000000000000"}, "", []string{"key", "create"}, 2, "--uid"},
		{"invalid policy from stdin", map[string]string{"CAMSD_ADMIN_TOKEN": "right-token-0000000000000000000000"},
			`{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:Get*","Resource":"*","Condition":{"NumericLess":{"acs:SourceIp":"x"}}}]}`,
			[]string{"policy", "attach", "--uid", acmeUID, "--user", "ops", "--document", "-"}, 1, "Statement[0].Condition"},
		{"unknown account", map[string]string{"CAMSD_ADMIN_TOKEN": "right-token-0000000000000000000000"}, "", []string{"space", "create", "--uid", "42", "--cust-space-id", "x"}, 1, "NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, tc.env, tc.stdin, append([]string{"admin", "--server", m.AdminURL}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.stderr)
			}
		})
	}
	// Without a token the server has no admin API at all.
	off := testConfig(t)
	if m := start(t, off); m.AdminURL != "" {
		t.Errorf("admin API started without a token: %s", m.AdminURL)
	}
}

// TestMetrics_EndToEnd: /metrics, on the admin listener, counts what the API answered.
func TestMetrics_EndToEnd(t *testing.T) {
	cfg := testConfig(t)
	cfg.AdminToken = "metrics-token-000000000000000000000"
	m := start(t, cfg)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	okBody(t, c, actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))
	if code, _ := errCode(t, c, actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")); code != "VerifyCode.SendTooFrequent" {
		t.Fatalf("second code: %s", code)
	}
	b := scrapeMetrics(t, m)
	for _, want := range []string{
		`camsd_requests_total{action="GetMigrationVerifyCode",code="OK"} 1`,
		`camsd_requests_total{action="GetMigrationVerifyCode",code="VerifyCode.SendTooFrequent"} 1`,
		`camsd_provider_sends_total{method="sms",outcome="sent"} 1`,
		`camsd_request_duration_seconds_count{action="GetMigrationVerifyCode"} 2`,
		`camsd_nonces 2`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestSeed_Progress: a seed of thousands of tenants is applied in chunks with a progress
// line after each, and every tenant is there at the end.
func TestSeed_Progress(t *testing.T) {
	var y strings.Builder
	y.WriteString("accounts:\n")
	const n = 1200
	for i := range n {
		fmt.Fprintf(&y, "  - uid: \"%d\"\n    name: t%d\n    access_keys: [{id: LTAI5tSeed%012d, secret: s%029d}]\n", 3000000000000000+i, i, i, i)
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Seed = path
	var logs bytes.Buffer
	m := NewMain(cfg, io.Discard, &logs)
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	var percents []string
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec struct {
			Msg     string `json:"msg"`
			Percent int    `json:"percent"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "seeding" {
			percents = append(percents, fmt.Sprint(rec.Percent))
		}
	}
	if got := strings.Join(percents, ","); got != "41,83,100" {
		t.Errorf("progress lines at %s%%; want 41,83,100", got)
	}
	if _, err := m.DB.Principal(context.Background(), fmt.Sprintf("LTAI5tSeed%012d", n-1)); err != nil {
		t.Errorf("last tenant: %v", err)
	}
}

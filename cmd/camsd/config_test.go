package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// env is a getenv over a fixed environment.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestLoadServeConfig(t *testing.T) {
	defaults := ServeConfig{
		Listen:          "127.0.0.1:8080",
		Region:          "ap-southeast-1",
		DataDir:         "./camsd-data",
		RedisTimeout:    time.Second,
		RedisPrefix:     "camsd:",
		QPS:             10,
		ResendInterval:  60 * time.Second,
		CodeTTL:         10 * time.Minute,
		Validity:        14 * 24 * time.Hour,
		MaxAttempts:     5,
		MaxSkew:         15 * time.Minute,
		MaxNonces:       1_000_000,
		SimRetention:    1000,
		LogFormat:       "json",
		AdminListen:     "127.0.0.1:8081",
		MaxConns:        10_000,
		MaxEventStreams: 100,
		Provider:        "sim",
		GraphURL:        "https://graph.facebook.com",
		GraphVersion:    "v21.0",
		GraphTimeout:    5 * time.Second,
	}
	with := func(change func(c *ServeConfig)) ServeConfig { c := defaults; change(&c); return c }
	for _, tc := range []struct {
		name   string
		args   []string
		getenv func(string) string
		want   ServeConfig
	}{
		{"defaults", nil, env(), defaults},
		{"environment without flags", nil, env(
			"CAMSD_LISTEN", "127.0.0.1:9999",
			"CAMSD_REGION", "cn-hangzhou",
			"CAMSD_DATA_DIR", "/var/lib/camsd",
			"CAMSD_DATABASE", "postgres://camsd@db/camsd",
			"CAMSD_REDIS", "redis://cache:6379/2",
			"CAMSD_REDIS_TIMEOUT", "20ms",
			"CAMSD_REDIS_PREFIX", "staging:",
			"CAMSD_SEED", "tenants.yaml",
			"CAMSD_QPS", "25",
			"CAMSD_RESEND_INTERVAL", "30s",
			"CAMSD_CODE_TTL", "5m",
			"CAMSD_VERIFICATION_VALIDITY", "48h",
			"CAMSD_MAX_CHECK_ATTEMPTS", "3",
			"CAMSD_MAX_SKEW", "1m",
			"CAMSD_MAX_NONCES", "7",
			"CAMSD_SIM_RETENTION", "3",
			"CAMSD_LOG_FORMAT", "text",
			"CAMSD_ADMIN_LISTEN", "127.0.0.1:9998",
			"CAMSD_TLS_CERT", "/etc/camsd/api.crt",
			"CAMSD_TLS_KEY", "/etc/camsd/api.key",
			"CAMSD_ADMIN_TLS_CERT", "/etc/camsd/admin.crt",
			"CAMSD_ADMIN_TLS_KEY", "/etc/camsd/admin.key",
			"CAMSD_MAX_CONNS", "500",
			"CAMSD_MAX_EVENT_STREAMS", "5",
			"CAMSD_ADMIN_TOKEN", "t0ken-000000000000000000000000000",
			"CAMSD_METRICS_LISTEN", "127.0.0.1:9996",
			"CAMSD_PROVIDER", "whatsapp",
			"CAMSD_GRAPH_URL", "http://127.0.0.1:9997",
			"CAMSD_GRAPH_VERSION", "v20.0",
			"CAMSD_GRAPH_TIMEOUT", "2s",
			"CAMSD_GRAPH_TOKEN", "EAAG",
		), ServeConfig{
			Listen:          "127.0.0.1:9999",
			Region:          "cn-hangzhou",
			DataDir:         "/var/lib/camsd",
			Database:        "postgres://camsd@db/camsd",
			Redis:           "redis://cache:6379/2",
			RedisTimeout:    20 * time.Millisecond,
			RedisPrefix:     "staging:",
			Seed:            "tenants.yaml",
			QPS:             25,
			ResendInterval:  30 * time.Second,
			CodeTTL:         5 * time.Minute,
			Validity:        48 * time.Hour,
			MaxAttempts:     3,
			MaxSkew:         time.Minute,
			MaxNonces:       7,
			SimRetention:    3,
			LogFormat:       "text",
			AdminListen:     "127.0.0.1:9998",
			AdminToken:      "t0ken-000000000000000000000000000",
			TLSCert:         "/etc/camsd/api.crt",
			TLSKey:          "/etc/camsd/api.key",
			AdminTLSCert:    "/etc/camsd/admin.crt",
			AdminTLSKey:     "/etc/camsd/admin.key",
			MaxConns:        500,
			MaxEventStreams: 5,
			MetricsListen:   "127.0.0.1:9996",
			Provider:        "whatsapp",
			GraphURL:        "http://127.0.0.1:9997",
			GraphVersion:    "v20.0",
			GraphTimeout:    2 * time.Second,
			GraphToken:      "EAAG",
		}},
		{"a flag beats the environment", []string{"--qps", "7", "--listen", "127.0.0.1:0"},
			env("CAMSD_QPS", "25", "CAMSD_LISTEN", "127.0.0.1:9999", "CAMSD_CODE_TTL", "5m"),
			with(func(c *ServeConfig) { c.QPS, c.Listen, c.CodeTTL = 7, "127.0.0.1:0", 5*time.Minute })},
		{"a flag set to its default beats the environment", []string{"--qps=10"}, env("CAMSD_QPS", "25"), defaults},
		{"a flag hides a bad environment value", []string{"--qps", "3"}, env("CAMSD_QPS", "ten"),
			with(func(c *ServeConfig) { c.QPS = 3 })},
		{"an empty variable is unset", nil, env("CAMSD_QPS", ""), defaults},
		{"resend interval 0 from the environment", nil, env("CAMSD_RESEND_INTERVAL", "0"),
			with(func(c *ServeConfig) { c.ResendInterval = 0 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadServeConfig(tc.args, tc.getenv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadServeConfig_errors: a bad value is refused with a message naming where it came
// from: the variable for a value from the environment, the flag for a flag.
func TestLoadServeConfig_errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		getenv func(string) string
		want   string
	}{
		{"unparsable number", nil, env("CAMSD_QPS", "ten"), `CAMSD_QPS="ten"`},
		{"unparsable duration", nil, env("CAMSD_CODE_TTL", "forever"), `CAMSD_CODE_TTL="forever"`},
		{"number out of range", nil, env("CAMSD_MAX_NONCES", "0"), `CAMSD_MAX_NONCES="0": --max-nonces must be at least 1`},
		{"negative duration", nil, env("CAMSD_RESEND_INTERVAL", "-1s"), `CAMSD_RESEND_INTERVAL="-1s": --resend-interval must not be negative`},
		{"unknown log format", nil, env("CAMSD_LOG_FORMAT", "xml"), `CAMSD_LOG_FORMAT="xml": --log-format must be json or text`},
		{"flag out of range", []string{"--qps", "0"}, env(), "--qps must be at least 1"},
		{"database not postgres", []string{"--database", "mysql://x"}, env(), "--database must be a postgres:// URL"},
		{"redis not a URL", nil, env("CAMSD_REDIS", "localhost:6379"), `CAMSD_REDIS="localhost:6379": --redis must be a redis:// URL`},
		{"unknown provider", []string{"--provider", "sms"}, env(), "--provider must be sim or whatsapp"},
		{"region with a scheme", []string{"--region", "https://ap-southeast-1"}, env(), "--region must be a region ID"},
		{"empty region", []string{"--region="}, env(), "--region must be a region ID"},
		{"region in capitals", nil, env("CAMSD_REGION", "AP-SOUTHEAST-1"), `CAMSD_REGION="AP-SOUTHEAST-1": --region must be a region ID`},
		{"whatsapp without a token", []string{"--provider", "whatsapp"}, env(), "CAMSD_GRAPH_TOKEN"},
		{"no check attempts", []string{"--max-check-attempts", "0"}, env(), "--max-check-attempts must be at least 1"},
		{"zero validity", nil, env("CAMSD_VERIFICATION_VALIDITY", "0s"), `CAMSD_VERIFICATION_VALIDITY="0s": --verification-validity must be positive`},
		{"short admin token", nil, env("CAMSD_ADMIN_TOKEN", "x"), "CAMSD_ADMIN_TOKEN is too short (1 characters): it must be at least 32"},
		{"certificate without its key", []string{"--tls-cert", "api.crt"}, env(), "--tls-cert and --tls-key go together"},
		{"admin key without its certificate", nil, env("CAMSD_ADMIN_TLS_KEY", "admin.key"), "--admin-tls-cert and --admin-tls-key go together"},
		{"no connections", []string{"--max-conns", "0"}, env(), "--max-conns must be at least 1"},
		{"no event streams", nil, env("CAMSD_MAX_EVENT_STREAMS", "0"), `CAMSD_MAX_EVENT_STREAMS="0": --max-event-streams must be at least 1`},
		{"unknown flag", []string{"--qsp", "3"}, env(), "-qsp"},
		{"argument", []string{"extra"}, env(), `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadServeConfig(tc.args, tc.getenv, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %s", err, tc.want)
			}
		})
	}
}

// TestRun_badSeed: a seed file camsd cannot apply stops the start with a message naming the
// file, the line and the path of the problem.
func TestRun_badSeed(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string // after the file name
	}{
		{"unknown field", strings.Join([]string{
			`accounts:`,
			`  - uid: "1000000000000001"`,
			`    qsp: 3`,
		}, "\n"), ":3:5: accounts[0].qsp: unknown field"},
		{"invalid policy", strings.Join([]string{
			`accounts:`,
			`  - uid: "1000000000000001"`,
			`    ram_users:`,
			`      - name: ops`,
			`        policies:`,
			`          - '{"Version":"1","Statement":[{"Effect":"Permit","Action":"cams:*","Resource":"*"}]}'`,
		}, "\n"), ":6:13: accounts[0].ram_users[0].policies[0]: Statement[0].Effect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "seed.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// A cancelled context: were the seed accepted, camsd would stop at once instead
			// of serving until the test times out.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var stdout, stderr bytes.Buffer
			args := []string{"serve", "--seed", file, "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}
			if code := run(ctx, args, env(), strings.NewReader(""), &stdout, &stderr); code == 0 {
				t.Fatalf("run = 0, want non-zero; stderr:\n%s", stderr.String())
			}
			if !strings.Contains(stderr.String(), file+tc.want) {
				t.Errorf("stderr = %q, want it to name %s%s", stderr.String(), file, tc.want)
			}
		})
	}
}

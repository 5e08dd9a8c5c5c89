package main

import (
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"github.com/camsd/camsd/listen/listentest"
)

// tlsFiles issues a certificate of ca with serial into a new directory and returns the
// paths of the certificate and its key.
func tlsFiles(t *testing.T, ca *listentest.CA, serial int64) (cert, key string) {
	t.Helper()
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.Issue(t, serial, cert, key)
	return cert, key
}

// startTLS runs camsd with its API over TLS, and its admin API too when the config has a
// token.
func startTLS(t *testing.T, cfg ServeConfig, ca *listentest.CA) *Main {
	t.Helper()
	cfg.TLSCert, cfg.TLSKey = tlsFiles(t, ca, 1001)
	if cfg.AdminToken != "" {
		cfg.AdminTLSCert, cfg.AdminTLSKey = tlsFiles(t, ca, 2001)
	}
	m := start(t, cfg)
	if !strings.HasPrefix(m.URL, "https://") {
		t.Fatalf("URL %s, want https://", m.URL)
	}
	return m
}

// newHTTPSClient is the darabonba client over https, trusting ca through its documented
// option (Config.Ca, a PEM), on its own pooled transport.
func newHTTPSClient(t *testing.T, m *Main, ca *listentest.CA, key, secret, alg string) *openapi.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     dara.String(key),
		AccessKeySecret: dara.String(secret),
		Endpoint:        dara.String(strings.TrimPrefix(m.URL, "https://")),
		Protocol:        dara.String("https"),
		Ca:              dara.String(string(ca.PEM)),
	}
	if alg != "" {
		cfg.SignatureAlgorithm = dara.String(alg)
	}
	c, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oldHTTPSCall is the old SDK's V2 call over https, trusting ca through its documented
// transport option (Config.WithHttpTransport).
func oldHTTPSCall(t *testing.T, m *Main, ca *listentest.CA, key, secret string, params map[string]string) (int, string, error) {
	t.Helper()
	cfg := sdk.NewConfig().WithHttpTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}})
	c, err := sdk.NewClientWithOptions("ap-southeast-1", cfg, credentials.NewAccessKeyCredential(key, secret))
	if err != nil {
		t.Fatal(err)
	}
	req := requests.NewCommonRequest()
	req.Method = "POST"
	req.Scheme = "https"
	req.Domain = strings.TrimPrefix(m.URL, "https://")
	req.Version = apiVersion
	req.ApiName = actionGetVC
	for k, v := range params {
		req.QueryParams[k] = v
	}
	resp, err := c.ProcessCommonRequest(req)
	if err != nil {
		return 0, "", err
	}
	return resp.GetHttpStatus(), resp.GetHttpContentString(), nil
}

// TestServe_TLS: both official clients call camsd over https, trusting a CA the test made,
// with V3 and V2 signatures; the admin API is served over TLS too; TLS 1.1 is refused.
func TestServe_TLS(t *testing.T) {
	ca := listentest.NewCA(t)
	cfg := testConfig(t)
	cfg.AdminToken = strings.Repeat("t", 32)
	m := startTLS(t, cfg, ca)

	for _, tc := range []struct{ alg, number string }{{"", migrating}, {"v2", "8613800001235"}} {
		t.Run("darabonba "+sigName(tc.alg), func(t *testing.T) {
			res, err := call(newHTTPSClient(t, m, ca, acmeKey, acmeSecret, tc.alg), actionGetVC, verifyCodeQuery(acmeSpace, tc.number, "en_US", "sms"))
			if err != nil {
				t.Fatal(err)
			}
			if body, _ := res["body"].(map[string]any); body["Code"] != "OK" {
				t.Fatalf("reply %v", res)
			}
		})
	}
	t.Run("old SDK V2", func(t *testing.T) {
		status, body, err := oldHTTPSCall(t, m, ca, acmeKey, acmeSecret, verifyCodeQuery(acmeSpace, "8613800001236", "en_US", "sms"))
		if err != nil || status != 200 || !strings.Contains(body, `"Code":"OK"`) {
			t.Fatalf("HTTP %d %s, %v", status, body, err)
		}
	})
	t.Run("the admin API", func(t *testing.T) {
		if !strings.HasPrefix(m.AdminURL, "https://") {
			t.Fatalf("admin URL %s", m.AdminURL)
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
		req, _ := http.NewRequest("GET", m.AdminURL+"/admin/v1/accounts", nil)
		req.Header.Set("Authorization", "Bearer "+cfg.AdminToken)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.TLS == nil || ca.Serial(t, strings.TrimPrefix(m.AdminURL, "https://")) != 2001 {
			t.Fatalf("HTTP %d over TLS %v, want 200 with the admin listener's own certificate", res.StatusCode, res.TLS != nil)
		}
	})
	t.Run("HTTP/2 is offered", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, ForceAttemptHTTP2: true}}
		res, err := c.Get(m.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.ProtoMajor != 2 {
			t.Errorf("%s over %s, want 200 over HTTP/2", res.Status, res.Proto)
		}
	})
	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: ca.Pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
		if res, err := c.Get(m.URL + "/healthz"); err == nil {
			res.Body.Close()
			t.Fatal("a TLS 1.1 client was served")
		}
	})
}

// secureOnlySeed is an account whose RAM user may call cams only over HTTPS.
const secureOnlySeed = `accounts:
  - uid: "3000000000000001"
    subscribed: true
    access_keys: [{id: LTAI5tTLSRoot000000001, secret: tlsRootSecret000000000000001}]
    ram_users:
      - name: https-only
        access_keys: [{id: LTAI5tTLSUser000000001, secret: tlsUserSecret000000000000001}]
        policies:
          - '{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"true"}}}]}'
`

// TestRAM_SecureTransport: a policy that allows only with acs:SecureTransport true allows a
// call over https and denies it over http, whatever headers the client sends.
func TestRAM_SecureTransport(t *testing.T) {
	const key, secret = "LTAI5tTLSUser000000001", "tlsUserSecret000000000000001"
	cfg := testConfig(t)
	cfg.Seed = filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(cfg.Seed, []byte(secureOnlySeed), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := listentest.NewCA(t)
	secure := startTLS(t, cfg, ca)
	cfg.DataDir = t.TempDir()
	plain := start(t, cfg)
	// The account owns no space: a call RAM allows answers Unknown.ResourceOwnerId.
	query := verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")

	for _, alg := range []string{"", "v2"} {
		t.Run(sigName(alg)+" over https", func(t *testing.T) {
			_, err := call(newHTTPSClient(t, secure, ca, key, secret, alg), actionGetVC, query)
			if e := asSDKError(t, err); e.Code != "Unknown.ResourceOwnerId" {
				t.Errorf("HTTP %d %s, want the call allowed (Unknown.ResourceOwnerId)", e.Status, e.Code)
			}
		})
		t.Run(sigName(alg)+" over http", func(t *testing.T) {
			_, err := call(newClient(t, plain, key, secret, alg), actionGetVC, query)
			if e := asSDKError(t, err); e.Status != 400 || e.Code != "Ram.PermissionDeny" {
				t.Errorf("HTTP %d %s, want 400 Ram.PermissionDeny", e.Status, e.Code)
			}
		})
	}
	t.Run("over http, saying https in headers", func(t *testing.T) {
		q := signedV2("GET", key, secret, actionGetVC, query, time.Now(), "secure-transport-header")
		r := send(t, "GET", plain.URL+"/?"+q.Encode(), nil, map[string]string{
			"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "Front-End-Https": "on", "Forwarded": "proto=https"})
		assertEnvelope(t, r, 400, "Ram.PermissionDeny")
	})
}

// TestServe_TLSReload: a new certificate is served from the next connection once its files
// change; a bad pair leaves the old one serving and the log says why; SIGHUP reads files
// whose time and size did not change.
func TestServe_TLSReload(t *testing.T) {
	ca := listentest.NewCA(t)
	cfg := testConfig(t)
	cfg.TLSCert, cfg.TLSKey = tlsFiles(t, ca, 1001)
	m, log := startLogged(t, cfg)
	addr := strings.TrimPrefix(m.URL, "https://")
	client := newHTTPSClient(t, m, ca, acmeKey, acmeSecret, "")
	served := func(t *testing.T) {
		t.Helper()
		_, err := call(client, actionGetVC, verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms"))
		if e := asSDKError(t, err); e.Code != "PhoneNumber.NotFound" {
			t.Fatalf("HTTP %d %s, want the call served (PhoneNumber.NotFound)", e.Status, e.Code)
		}
	}
	if got := ca.Serial(t, addr); got != 1001 {
		t.Fatalf("serial %d, want 1001", got)
	}
	served(t)

	// later moves both files' modification times forward, as a write a while later would
	// (a file system's clock may tick more coarsely than the test writes).
	later := func(d time.Duration) {
		t.Helper()
		for _, p := range []string{cfg.TLSCert, cfg.TLSKey} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, fi.ModTime().Add(d), fi.ModTime().Add(d)); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("rotation", func(t *testing.T) {
		ca.Issue(t, 1002, cfg.TLSCert, cfg.TLSKey)
		later(time.Second)
		if got := ca.Serial(t, addr); got != 1002 {
			t.Fatalf("serial %d, want 1002", got)
		}
		served(t)
	})

	t.Run("a bad pair", func(t *testing.T) {
		if err := os.WriteFile(cfg.TLSCert, []byte("not a certificate"), 0o644); err != nil {
			t.Fatal(err)
		}
		later(2 * time.Second)
		if got := ca.Serial(t, addr); got != 1002 {
			t.Fatalf("serial %d, want the old 1002", got)
		}
		served(t)
		if !strings.Contains(log.String(), "certificate reload failed") || !strings.Contains(log.String(), "failed to find any PEM data") {
			t.Errorf("the log does not say why:\n%s", log)
		}
	})

	t.Run("SIGHUP", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("signals are POSIX")
		}
		ca.Issue(t, 1003, cfg.TLSCert, cfg.TLSKey)
		later(3 * time.Second)
		if got := ca.Serial(t, addr); got != 1003 {
			t.Fatalf("serial %d, want 1003", got)
		}
		// A pair of the same sizes, its files' times put back: only a SIGHUP tells.
		before := [2]os.FileInfo{}
		for i, p := range []string{cfg.TLSCert, cfg.TLSKey} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			before[i] = fi
		}
		ca.Issue(t, 1004, cfg.TLSCert, cfg.TLSKey)
		for i, p := range []string{cfg.TLSCert, cfg.TLSKey} {
			if err := os.Chtimes(p, before[i].ModTime(), before[i].ModTime()); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(p); err != nil || fi.Size() != before[i].Size() {
				t.Fatalf("%s changed size: the test cannot hide the change", p)
			}
		}
		if got := ca.Serial(t, addr); got != 1003 {
			t.Fatalf("serial %d before SIGHUP, want 1003", got)
		}
		p, err := os.FindProcess(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Signal(syscall.SIGHUP); err != nil { // camsd listens for it while open
			t.Fatal(err)
		}
		for i := 0; ca.Serial(t, addr) != 1004; i++ { // the signal arrives asynchronously
			if i == 500 {
				t.Fatal("SIGHUP did not reload the certificate")
			}
			time.Sleep(20 * time.Millisecond)
		}
		served(t)
	})
}

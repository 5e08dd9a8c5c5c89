package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
)

// Keys of testdata/e2e-seed.yaml.
const (
	acmeUID     = "1000000000000001"
	acmeKey     = "LTAI5tAcmeRoot00000001"
	acmeSecret  = "acmeRootSecret0000000000000001"
	offKey      = "LTAI5tAcmeOff000000001"
	offSecret   = "acmeOffSecret00000000000000001"
	opsKey      = "LTAI5tAcmeOps000000001"
	opsSecret   = "acmeOpsSecret00000000000001"
	readKey     = "LTAI5tAcmeRead00000001"
	readSecret  = "acmeReadSecret0000000000001"
	getKey      = "LTAI5tAcmeGet000000001" // RAM user allowed cams:Get* only
	getSecret   = "acmeGetSecret00000000000001"
	blockKey    = "LTAI5tAcmeBlock0000001"
	blockSecret = "acmeBlockSecret000000000001"
	otherKey    = "LTAI5tOtherRoot0000001"
	otherSecret = "otherRootSecret000000000000001"
	unsubKey    = "LTAI5tUnsubRoot0000001"
	unsubSecret = "unsubRootSecret000000000000001"
	acmeSpace   = "293483938849493"
	otherSpace  = "393483938849493"
	migrating   = "8613800001234"
	migratingID = "82828893332"
	connected   = "8613800009999"
	notInSpace  = "8613811112222"
	otherNumber = "6281200001234"
	actionGetVC = "GetMigrationVerifyCode"
)

// testConfig is what the end-to-end tests run camsd with; tests change fields before start.
func testConfig(t *testing.T) ServeConfig {
	t.Helper()
	c := DefaultServeConfig()
	c.Listen = "127.0.0.1:0"
	c.AdminListen = "127.0.0.1:0"
	c.DataDir = t.TempDir()
	c.Seed = "testdata/e2e-seed.yaml"
	return c
}

// start runs camsd in-process on a random loopback port until the test ends.
func start(t *testing.T, cfg ServeConfig) *Main { t.Helper(); return startAt(t, cfg, nil) }

// startAt is start with the server's clock (nil: time.Now).
func startAt(t *testing.T, cfg ServeConfig, now func() time.Time) *Main {
	t.Helper()
	m := NewMain(cfg, io.Discard, io.Discard)
	m.Now = now
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open camsd: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func hostOf(m *Main) string { return strings.TrimPrefix(m.URL, "http://") }

// newClient returns the official darabonba client; alg "" is its V3 default, "v2" HMAC-SHA1.
func newClient(t *testing.T, m *Main, key, secret, alg string) *openapi.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     dara.String(key),
		AccessKeySecret: dara.String(secret),
		Endpoint:        dara.String(hostOf(m)),
		Protocol:        dara.String("http"),
		HttpClient:      sdkHTTP{},
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

// sdkHTTP is the darabonba client's HTTP hook (Config.HttpClient); only the transport
// changes, the SDK still builds, signs and parses every call. Its default, an http.Client
// pooled per endpoint, has its Timeout written on every call while concurrent calls read it
// (tea v1.5.1 dara.DoRequest), a data race that -race reports when a test calls concurrently.
type sdkHTTP struct{}

var sdkHTTPClient = &http.Client{Timeout: 30 * time.Second}

func (sdkHTTP) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return sdkHTTPClient.Do(req)
}

// call makes an RPC call exactly as the generated cams SDK does: POST, params in the query.
func call(c *openapi.Client, action string, query map[string]string) (map[string]any, error) {
	q := map[string]*string{}
	for k, v := range query {
		q[k] = dara.String(v)
	}
	req := &openapi.OpenApiRequest{Query: q}
	return c.CallApi(rpcParams(action), req, &dara.RuntimeOptions{})
}

func verifyCodeQuery(space, number, locale, method string) map[string]string {
	return map[string]string{"CustSpaceId": space, "PhoneNumber": number, "Locale": locale, "Method": method}
}

// simMessage is one message of GET /_sim/messages.
type simMessage struct {
	PhoneNumber, Method, Locale, Code, Text string
	CreatedAt                               time.Time
}

func simMessages(t *testing.T, m *Main, number string) []simMessage {
	t.Helper()
	u := m.URL + "/_sim/messages"
	if number != "" {
		u += "?PhoneNumber=" + url.QueryEscape(number)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	var out struct{ Messages []simMessage }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

// loadTarget is who a load run signs as and what it asks for.
type loadTarget struct {
	Base        string // http://host:port
	KeyID       string
	Secret      string
	CustSpaceID string
	Numbers     []string
	Signature   string // "v3" (the SDK default) or "v2"
}

// signedCall is one request, signed before the clock starts so that the load generator's
// own signing does not share the measured time with the server under test.
type signedCall struct {
	method string
	url    string
	header http.Header
}

// presign signs n GetMigrationVerifyCode calls with the official darabonba signer, each with
// its own nonce, spread over the target's numbers.
func presign(t loadTarget, n int) ([]signedCall, error) {
	host := t.Base[len("http://"):]
	now := time.Now()
	ts := now.UTC().Format("2006-01-02T15:04:05Z")
	calls := make([]signedCall, n)
	for i := range calls {
		nonce, err := newNonce()
		if err != nil {
			return nil, err
		}
		params := map[string]string{
			"CustSpaceId": t.CustSpaceID,
			"PhoneNumber": t.Numbers[i%len(t.Numbers)],
			"Locale":      "en_US",
			"Method":      "sms",
		}
		if t.Signature == "v2" {
			calls[i] = signV2(t, params, now, nonce)
		} else {
			calls[i] = signV3(t, host, params, ts, nonce)
		}
	}
	return calls, nil
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func signV3(t loadTarget, host string, params map[string]string, ts, nonce string) signedCall {
	return signV3Action(t, host, "GetMigrationVerifyCode", params, ts, nonce)
}

// signV3Action signs a call of action with ACS3-HMAC-SHA256, its parameters in the query.
func signV3Action(t loadTarget, host, action string, params map[string]string, ts, nonce string) signedCall {
	query := map[string]*string{}
	q := url.Values{}
	for k, v := range params {
		query[k] = dara.String(v)
		q.Set(k, v)
	}
	headers := map[string]*string{
		"host":                  dara.String(host),
		"x-acs-action":          dara.String(action),
		"x-acs-version":         dara.String("2020-06-06"),
		"x-acs-date":            dara.String(ts),
		"x-acs-signature-nonce": dara.String(nonce),
		"x-acs-content-sha256":  dara.String(emptySHA256),
	}
	req := &dara.Request{Method: dara.String("POST"), Pathname: dara.String("/"), Query: query, Headers: headers}
	auth := openapiutil.GetAuthorization(req, dara.String("ACS3-HMAC-SHA256"), dara.String(emptySHA256),
		dara.String(t.KeyID), dara.String(t.Secret))
	h := http.Header{}
	for k, v := range headers {
		if k != "host" {
			h.Set(k, *v)
		}
	}
	h.Set("Authorization", *auth)
	h.Set("Accept", "application/json")
	return signedCall{method: "POST", url: t.Base + "/?" + q.Encode(), header: h}
}

func signV2(t loadTarget, params map[string]string, ts time.Time, nonce string) signedCall {
	return signV2Action(t, "GetMigrationVerifyCode", params, ts, nonce)
}

// signV2Action signs a GET of action with HMAC-SHA1.
func signV2Action(t loadTarget, action string, params map[string]string, ts time.Time, nonce string) signedCall {
	q := signedV2("GET", t.KeyID, t.Secret, action, params, ts, nonce)
	return signedCall{method: "GET", url: t.Base + "/?" + q.Encode()}
}

// signedV2 returns the parameters of a V2 (HMAC-SHA1) call signed by the official signer
// (darabonba's GetRPCSignature), so that a test can send it, tamper with it or replay it.
func signedV2(method, key, secret, action string, params map[string]string, ts time.Time, nonce string) url.Values {
	all := map[string]*string{
		"AccessKeyId":      dara.String(key),
		"Action":           dara.String(action),
		"Format":           dara.String("json"),
		"SignatureMethod":  dara.String("HMAC-SHA1"),
		"SignatureNonce":   dara.String(nonce),
		"SignatureVersion": dara.String("1.0"),
		"Timestamp":        dara.String(ts.UTC().Format("2006-01-02T15:04:05Z")),
		"Version":          dara.String("2020-06-06"),
	}
	for k, v := range params {
		all[k] = dara.String(v)
	}
	sig := openapiutil.GetRPCSignature(all, dara.String(method), dara.String(secret))
	q := url.Values{}
	for k, v := range all {
		q.Set(k, *v)
	}
	q.Set("Signature", *sig)
	return q
}

// loadResult is one closed-loop run.
type loadResult struct {
	Requests  int
	Failed    int // not the expected HTTP status
	Elapsed   time.Duration
	Latencies []time.Duration
	// CPU is the CPU time the whole process used during the run, the load generator's
	// included (0 when the system does not say).
	CPU time.Duration
}

func (r loadResult) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// CPUPerCall is the process's CPU time per call: unlike RPS, it hardly moves with what else
// the machine is doing, so it shows a change too small for the noise in RPS.
func (r loadResult) CPUPerCall() time.Duration { return r.CPU / time.Duration(r.Requests) }

func (r loadResult) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[int(p*float64(len(r.Latencies)-1))]
}

// runLoad sends the calls with `concurrency` workers over keep-alive connections.
// A call that does not answer status counts as failed.
func runLoad(ctx context.Context, client *http.Client, calls []signedCall, concurrency, status int) loadResult {
	var next, failed atomic.Int64
	lat := make([]time.Duration, len(calls))
	var wg sync.WaitGroup
	cpu0, start := processCPU(), time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(calls) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if do(ctx, client, calls[i]) != status {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	r := loadResult{Requests: len(calls), Failed: int(failed.Load()), Elapsed: time.Since(start), Latencies: lat, CPU: processCPU() - cpu0}
	sort.Slice(r.Latencies, func(i, j int) bool { return r.Latencies[i] < r.Latencies[j] })
	return r
}

// do sends c and returns the HTTP status, 0 when there was no reply.
func do(ctx context.Context, client *http.Client, c signedCall) int {
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, nil)
	if err != nil {
		return 0
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// bareHandler answers what a successful GetMigrationVerifyCode answers, with no checks at
// all: the baseline the request path is measured against.
func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := newNonce()
		body := fmt.Sprintf(`{"RequestId":%q,"Code":"OK","Message":"SUCCESS","Data":{"PhoneNumber":"8613800001234","Id":"82828893332"},"AccessDeniedDetail":"None"}`, id)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Header().Set("x-acs-request-id", id)
		_, _ = io.WriteString(w, body)
	})
}

// loadClient is the load generator's client: every one of concurrency clients keeps a
// connection to each server it calls (each replica), none closed between calls.
func loadClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			// No bound over all servers: one of concurrency would have the clients of
			// several replicas close and dial connections all the time.
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     time.Minute,
		},
	}
}

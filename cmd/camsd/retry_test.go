package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
)

// attempt is one request that reached camsd through the recording proxy, and its reply.
type attempt struct {
	call              string    // the test's own x-test-call header: which client call it belongs to
	arrived, answered time.Time // at the proxy
	retryAttempts     string    // x-acs-retry-attempts as sent
	retryDelay        string    // x-acs-retry-delay as sent
	code              string    // the reply's Code
	retryAfterMS      string    // x-acs-retry-after of the reply
	retryAfter        string    // Retry-After of the reply
}

// recorder is a reverse proxy in front of camsd that keeps every request that passes.
type recorder struct {
	url string
	mu  sync.Mutex
	all []attempt
}

func newRecorder(t *testing.T, m *Main) *recorder {
	t.Helper()
	target, err := url.Parse(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		var body struct{ Code string }
		b, err := readAllAndRestore(resp)
		if err != nil {
			return err
		}
		_ = json.Unmarshal(b, &body)
		a := resp.Request.Context().Value(arrivalKey{}).(attempt)
		a.answered = time.Now()
		a.code = body.Code
		a.retryAfterMS = resp.Header.Get("x-acs-retry-after")
		a.retryAfter = resp.Header.Get("Retry-After")
		rec.mu.Lock()
		rec.all = append(rec.all, a)
		rec.mu.Unlock()
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := attempt{
			call:          r.Header.Get("x-test-call"),
			arrived:       time.Now(),
			retryAttempts: r.Header.Get("x-acs-retry-attempts"),
			retryDelay:    r.Header.Get("x-acs-retry-delay"),
		}
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), arrivalKey{}, a)))
	}))
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

type arrivalKey struct{}

func readAllAndRestore(resp *http.Response) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
	return buf.Bytes(), nil
}

// byCall returns the attempts of each call, in the order they arrived.
func (r *recorder) byCall() map[string][]attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]attempt{}
	for _, a := range r.all {
		out[a.call] = append(out[a.call], a)
	}
	for _, as := range out {
		for i := 1; i < len(as); i++ { // arrival order; appended at answer time
			for j := i; j > 0 && as[j].arrived.Before(as[j-1].arrived); j-- {
				as[j], as[j-1] = as[j-1], as[j]
			}
		}
	}
	return out
}

func (r *recorder) host() string { return strings.TrimPrefix(r.url, "http://") }

// cliCall makes one call the way the aliyun CLI does (openapi/throttling_retry.go in
// aliyun/aliyun-cli): the old Go SDK's ProcessCommonRequest; on an error reply carrying
// x-acs-retry-after it sleeps that many milliseconds (at most 60000) and tries again, at most
// 3 retries, sending x-acs-retry-attempts and x-acs-retry-delay on each retry. It returns the
// last reply's Code ("OK" on success) and how many attempts it made.
func cliCall(t *testing.T, host, callID string, params map[string]string) (code string, attempts int) {
	t.Helper()
	c, err := sdk.NewClientWithOptions("ap-southeast-1", sdk.NewConfig(), credentials.NewAccessKeyCredential(acmeKey, acmeSecret))
	if err != nil {
		t.Fatal(err)
	}
	req := requests.NewCommonRequest()
	req.Method = "POST"
	req.Scheme = "http"
	req.Domain = host
	req.Version = apiVersion
	req.ApiName = actionGetVC
	for k, v := range params {
		req.QueryParams[k] = v
	}
	req.Headers["x-test-call"] = callID
	const maxRetries, maxDelayMS = 3, 60000
	delayMS := int64(0)
	for retry := 0; ; retry++ {
		if retry > 0 {
			req.Headers["x-acs-retry-attempts"] = strconv.Itoa(retry)
			req.Headers["x-acs-retry-delay"] = strconv.FormatInt(delayMS, 10)
		}
		attempts++
		_, err := c.ProcessCommonRequest(req)
		if err == nil {
			return "OK", attempts
		}
		var se *sdkerrors.ServerError
		if !errors.As(err, &se) {
			t.Fatalf("call %s: %v", callID, err)
		}
		ms, ok := retryAfterMS(se.RespHeaders)
		if !ok || retry >= maxRetries {
			return se.ErrorCode(), attempts
		}
		delayMS = min(ms, maxDelayMS)
		time.Sleep(time.Duration(delayMS) * time.Millisecond)
	}
}

// retryAfterMS reads x-acs-retry-after as the CLI does: any case, an integer of milliseconds.
func retryAfterMS(h map[string][]string) (int64, bool) {
	for k, v := range h {
		if strings.EqualFold(k, "x-acs-retry-after") && len(v) > 0 {
			n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
			return n, err == nil && n >= 0
		}
	}
	return 0, false
}

// lockedBuffer is camsd's log output, written by the server while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// startLogged is start with camsd's log kept.
func startLogged(t *testing.T, cfg ServeConfig) (*Main, *lockedBuffer) {
	t.Helper()
	var log lockedBuffer
	m := NewMain(cfg, &log, &log)
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open camsd: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, &log
}

// checkRetries checks what a throttled client did against what camsd told it: every retry
// came after at least the milliseconds camsd's refusal said, numbered and with the delay the
// client waited; only flow-control refusals were retried, each carrying both waits, the
// seconds (Retry-After) being the milliseconds rounded up.
func checkRetries(t *testing.T, as []attempt, cliDelay bool) {
	t.Helper()
	for i, a := range as {
		if a.code == "System.LimitControl" {
			ms, err := strconv.ParseInt(a.retryAfterMS, 10, 64)
			if err != nil || ms < 1 || ms > 1000 {
				t.Errorf("attempt %d: x-acs-retry-after %q, want milliseconds in 1..1000 (a 1 s window)", i, a.retryAfterMS)
				continue
			}
			if want := strconv.FormatInt((ms+999)/1000, 10); a.retryAfter != want {
				t.Errorf("attempt %d: Retry-After %q, want %s (the %d ms in seconds, rounded up)", i, a.retryAfter, want, ms)
			}
		} else if a.retryAfterMS != "" {
			t.Errorf("attempt %d: %s with x-acs-retry-after %q", i, a.code, a.retryAfterMS)
		}
		if i == 0 {
			if a.retryAttempts != "" {
				t.Errorf("first attempt sent x-acs-retry-attempts %q", a.retryAttempts)
			}
			continue
		}
		prev := as[i-1]
		if prev.code != "System.LimitControl" {
			t.Errorf("attempt %d follows %s, which is not flow control", i, prev.code)
			continue
		}
		if a.retryAttempts != strconv.Itoa(i) {
			t.Errorf("attempt %d: x-acs-retry-attempts %q", i, a.retryAttempts)
		}
		if cliDelay && a.retryDelay != prev.retryAfterMS {
			t.Errorf("attempt %d: x-acs-retry-delay %q, want the %s ms camsd said", i, a.retryDelay, prev.retryAfterMS)
		}
		said, _ := strconv.ParseInt(prev.retryAfterMS, 10, 64)
		if waited := a.arrived.Sub(prev.answered); waited < time.Duration(said)*time.Millisecond {
			t.Errorf("attempt %d came %v after a refusal that said %d ms", i, waited, said)
		}
	}
}

// TestRetry_CLI: callers that retry as the aliyun CLI does, five at once on an account
// limited to 2 calls a second, all get through within the CLI's three retries, each retry
// waiting what camsd said; camsd receives exactly the attempts made, logs the retries and
// counts them. With camsd's old seconds in x-acs-retry-after the CLI slept 1 ms per retry
// and gave up after four refusals.
func TestRetry_CLI(t *testing.T) {
	cfg := testConfig(t)
	cfg.QPS = 2
	cfg.ResendInterval = 0 // every call may send a code: the only refusals are flow control
	cfg.MetricsListen = "127.0.0.1:0"
	m, log := startLogged(t, cfg)
	rec := newRecorder(t, m)

	const calls = 5
	codes := make([]string, calls)
	made := make([]int, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], made[i] = cliCall(t, rec.host(), strconv.Itoa(i), verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))
		}()
	}
	wg.Wait()

	got := rec.byCall()
	retries := 0
	for i := range calls {
		as := got[strconv.Itoa(i)]
		if codes[i] != "OK" {
			t.Errorf("call %d ended %s after %d attempts", i, codes[i], made[i])
		}
		if len(as) != made[i] {
			t.Errorf("call %d: the client made %d attempts, camsd received %d", i, made[i], len(as))
		}
		checkRetries(t, as, true)
		retries += len(as) - 1
	}
	if retries == 0 {
		t.Fatal("no call was throttled: the test did not reach camsd's limit")
	}
	want := fmt.Sprintf(`camsd_request_retries_total{action="GetMigrationVerifyCode"} %d`, retries)
	if metrics := scrapeMetrics(t, m); !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s:\n%s", want, grepLines(metrics, "retries"))
	}
	waitFor(t, func() bool { return strings.Count(log.String(), `"retry_attempt":`) == retries },
		"%d log lines with retry_attempt", retries)
	if !strings.Contains(log.String(), `"retry_attempt":1,"retry_delay":`) {
		t.Errorf("log lacks a retry's attempt and delay:\n%s", grepLines(log.String(), "retry"))
	}
}

// waitFor polls cond for up to 5 s: camsd writes a request's log line after its reply.
func waitFor(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for "+format, args...)
		}
	}
}

// TestRetry_CLI_businessRefusal: a resend refused by the resend interval carries Retry-After
// (the seconds until a code may be sent) but no x-acs-retry-after, so the CLI does not repeat
// it: one attempt.
func TestRetry_CLI_businessRefusal(t *testing.T) {
	m := start(t, testConfig(t))
	rec := newRecorder(t, m)
	params := verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")
	if code, n := cliCall(t, rec.host(), "first", params); code != "OK" || n != 1 {
		t.Fatalf("first code: %s after %d attempts", code, n)
	}
	code, n := cliCall(t, rec.host(), "resend", params)
	if code != "VerifyCode.SendTooFrequent" || n != 1 {
		t.Fatalf("resend: %s after %d attempts, want VerifyCode.SendTooFrequent after 1", code, n)
	}
	as := rec.byCall()["resend"]
	if len(as) != 1 {
		t.Fatalf("camsd received %d attempts of the resend, want 1", len(as))
	}
	if s, err := strconv.Atoi(as[0].retryAfter); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want the seconds left of the 60 s interval", as[0].retryAfter)
	}
	checkRetries(t, as, true)
}

// TestRetry_Darabonba: the darabonba client with RetryOptions that retry System.LimitControl
// (at most 3 times, a fixed backoff of 1, which dara.Sleep takes as seconds) and nothing else.
// darabonba reads x-acs-retry-after only for codes containing "Throttling", so its wait is its
// own backoff; camsd's limit is a 1 s window, so that wait is never shorter than what camsd
// said. A throttled call then succeeds on its retry, and camsd sees exactly the attempts made.
func TestRetry_Darabonba(t *testing.T) {
	cfg := testConfig(t)
	cfg.QPS = 2
	cfg.ResendInterval = 0
	m := start(t, cfg)
	rec := newRecorder(t, m)
	retrying := &dara.RetryOptions{
		Retryable:   true,
		MaxAttempts: 1, // no retry for codes no condition names
		RetryCondition: []*dara.RetryCondition{{
			ErrorCode:   []string{"System.LimitControl"},
			MaxAttempts: 3,
			Backoff:     &dara.FixedBackoffPolicy{Period: 1},
			MaxDelay:    dara.MAX_DELAY_TIME,
		}},
	}
	client := func(callID string) *openapi.Client {
		c, err := openapi.NewClient(&openapi.Config{
			AccessKeyId:     dara.String(acmeKey),
			AccessKeySecret: dara.String(acmeSecret),
			Endpoint:        dara.String(rec.host()),
			Protocol:        dara.String("http"),
			HttpClient:      sdkHTTP{},
			RetryOptions:    retrying,
		})
		if err != nil {
			t.Fatal(err)
		}
		c.GlobalParameters = &openapi.GlobalParameters{Headers: map[string]*string{"x-test-call": dara.String(callID)}}
		return c
	}
	params := verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")

	// Fill the window, then one more call: refused, then retried after its backoff.
	for i := range 2 {
		if _, err := call(client(fmt.Sprintf("fill%d", i)), actionGetVC, params); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := call(client("throttled"), actionGetVC, params); err != nil {
		t.Fatalf("throttled call did not succeed on a retry: %v", err)
	}
	as := rec.byCall()["throttled"]
	if len(as) < 2 || as[0].code != "System.LimitControl" || as[len(as)-1].code != "OK" {
		t.Fatalf("attempts of the throttled call: %+v, want a refusal then OK", as)
	}
	checkRetries(t, as, false)
	if as[1].retryDelay != "1" {
		t.Errorf("x-acs-retry-delay %q, want darabonba's backoff of 1", as[1].retryDelay)
	}

	// A business refusal is not retried: one attempt.
	rc := client("notfound")
	_, err := call(rc, actionGetVC, verifyCodeQuery(acmeSpace, notInSpace, "en_US", "sms"))
	if code := asSDKError(t, err).Code; code != "PhoneNumber.NotFound" {
		t.Fatalf("code %s, want PhoneNumber.NotFound", code)
	}
	if as := rec.byCall()["notfound"]; len(as) != 1 {
		t.Errorf("camsd received %d attempts of a business refusal, want 1", len(as))
	}
}

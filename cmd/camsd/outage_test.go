package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// pausableProxy forwards TCP to target until paused; while paused it accepts connections
// and forwards nothing, so the client sees a server that does not answer.
type pausableProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	paused bool
	conns  []net.Conn
}

func newPausableProxy(t *testing.T, target string) *pausableProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pausableProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go p.serve()
	return p
}

func (p *pausableProxy) addr() string { return p.ln.Addr().String() }

func (p *pausableProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		go p.pipe(c)
	}
}

func (p *pausableProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, up)
	p.mu.Unlock()
	copyUnlessPaused := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				for p.isPaused() { // hold the bytes: the other side hears nothing
					time.Sleep(5 * time.Millisecond)
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				dst.Close()
				return
			}
		}
	}
	go copyUnlessPaused(up, c)
	copyUnlessPaused(c, up)
}

func (p *pausableProxy) isPaused() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.paused }
func (p *pausableProxy) pause(on bool)  { p.mu.Lock(); p.paused = on; p.mu.Unlock() }

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestRedisOutage: while Redis stops answering, for the 30 seconds, calls keep being
// served (reads, and code requests, which change state): nonces are checked in the database
// alone and flow control per replica, each decision counted, /readyz stays 200 and
// camsd_redis_up is 0; when Redis answers again camsd goes back to it within seconds, for
// nonces and for flow control. Replays are refused throughout.
func TestRedisOutage(t *testing.T) {
	needServices(t)
	proxy := newPausableProxy(t, strings.TrimSuffix(strings.TrimPrefix(testRedisURL(), "redis://"), "/0"))
	cfg := replicaConfig(t, freshDatabase(t), randomName("camsd-test:")+":")
	cfg.Redis = "redis://" + proxy.addr() + "/0"
	cfg.RedisTimeout = 200 * time.Millisecond
	cfg.ResendInterval = 0
	m, log := startLogged(t, cfg)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	status := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}
	okBody(t, c, "GetPhoneNumberVerificationStatus", status)

	// Calls from a few clients throughout, before, during and after the outage.
	var (
		stop   = make(chan struct{})
		wg     sync.WaitGroup
		mu     sync.Mutex
		calls  int
		failed []string
	)
	for i := range 4 {
		wg.Go(func() {
			c := newClient(t, m, acmeKey, acmeSecret, "")
			action, query := "GetPhoneNumberVerificationStatus", status
			if i == 0 { // one client changes state: its nonces are recorded with its codes
				action, query = actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := call(c, action, query)
				mu.Lock()
				calls++
				if err != nil {
					failed = append(failed, asSDKError(t, err).Code)
				}
				mu.Unlock()
				time.Sleep(500 * time.Millisecond) // 2 calls a second per action: under the account's 10
			}
		})
	}
	metric := func(name string) string {
		for _, l := range strings.Split(scrapeMetrics(t, m), "\n") {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				return v
			}
		}
		return ""
	}
	time.Sleep(500 * time.Millisecond)
	proxy.pause(true)
	time.Sleep(30 * time.Second)
	if got := metric("camsd_redis_up"); got != "0" {
		t.Errorf("camsd_redis_up = %q during the outage, want 0", got)
	}
	if got := httpStatus(t, m.URL+"/readyz"); got != http.StatusOK {
		t.Errorf("/readyz during the outage: %d, want 200 (camsd serves without Redis)", got)
	}
	nonceFallbacks, flowFallbacks := metric("camsd_nonce_fallbacks_total"), metric("camsd_flow_control_fallbacks_total")
	if nonceFallbacks == "0" || nonceFallbacks == "" || flowFallbacks == "0" || flowFallbacks == "" {
		t.Errorf("fallbacks during the outage: nonces %q, flow control %q; want both counted", nonceFallbacks, flowFallbacks)
	}

	proxy.pause(false)
	deadline := time.Now().Add(5 * time.Second)
	for metric("camsd_redis_up") != "1" {
		if time.Now().After(deadline) {
			t.Fatal("camsd_redis_up not back to 1 5 s after Redis returned")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Back on Redis: the fallbacks stop growing.
	before := []string{metric("camsd_nonce_fallbacks_total"), metric("camsd_flow_control_fallbacks_total")}
	time.Sleep(time.Second)
	if after := []string{metric("camsd_nonce_fallbacks_total"), metric("camsd_flow_control_fallbacks_total")}; after[0] != before[0] || after[1] != before[1] {
		t.Errorf("fallbacks (nonces, flow control) went on after Redis returned: %v -> %v", before, after)
	}
	close(stop)
	wg.Wait()
	if len(failed) > 0 || calls < 200 {
		t.Errorf("%d of %d calls failed across the outage: %v", len(failed), calls, failed)
	}
	for _, want := range []string{`"msg":"redis: not answering`, `"msg":"redis: answering again`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
	t.Logf("%d calls, nonces checked without Redis %s times, flow control %s times", calls, nonceFallbacks, flowFallbacks)
}

// scrapeMetrics reads /metrics where m serves it: start m with an admin token or
// --metrics-listen.
func scrapeMetrics(t *testing.T, m *Main) string {
	t.Helper()
	if m.MetricsURL == "" {
		t.Fatal("metrics are off: no admin token and no --metrics-listen")
	}
	resp, err := http.Get(m.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

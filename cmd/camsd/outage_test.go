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

// TestRedisOutage: when Redis stops answering, nonce checks fail closed with 503 within the
// Redis timeout, flow control falls back to the replica's own limiter and counts it, /readyz
// turns 503 and back to 200 when Redis returns.
func TestRedisOutage(t *testing.T) {
	needServices(t)
	proxy := newPausableProxy(t, strings.TrimSuffix(strings.TrimPrefix(testRedisURL(), "redis://"), "/0"))
	cfg := replicaConfig(t, freshDatabase(t), randomName("camsd-test:")+":")
	cfg.Redis = "redis://" + proxy.addr() + "/0"
	cfg.RedisTimeout = 50 * time.Millisecond
	m := start(t, cfg)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	status := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}
	okBody(t, c, "GetPhoneNumberVerificationStatus", status)
	if got := httpStatus(t, m.URL+"/readyz"); got != 200 {
		t.Fatalf("/readyz with Redis up: %d", got)
	}

	proxy.pause(true)
	start := time.Now()
	got, st := errCode(t, c, "GetPhoneNumberVerificationStatus", status)
	took := time.Since(start)
	if got != "ServiceUnavailable" || st != 503 {
		t.Errorf("with Redis silent: %s %d; want ServiceUnavailable 503 (a nonce that cannot be checked is refused)", got, st)
	}
	// Two Redis decisions at most (flow control, then the nonce), each bounded by the
	// timeout plus 10 ms; the rest of the margin is this machine's.
	if took > 2*(cfg.RedisTimeout+10*time.Millisecond)+400*time.Millisecond {
		t.Errorf("the refusal took %v", took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for httpStatus(t, m.URL+"/readyz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still 200 5 s into the outage")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The nonce is checked before flow control, so an outage is met first by the nonce,
	// which fails closed; the per-replica limiter stands in only when Redis fails between
	// the two (redisstore's tests cover it). Its counter is exported either way.
	if metrics := scrapeMetrics(t, m); !strings.Contains(metrics, "\ncamsd_flow_control_fallbacks_total ") {
		t.Errorf("/metrics lacks camsd_flow_control_fallbacks_total:\n%s", grepLines(metrics, "camsd_flow"))
	}

	proxy.pause(false)
	deadline = time.Now().Add(10 * time.Second)
	for httpStatus(t, m.URL+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not back to 200 10 s after Redis returned")
		}
		time.Sleep(100 * time.Millisecond)
	}
	okBody(t, c, "GetPhoneNumberVerificationStatus", status)
}

func scrapeMetrics(t *testing.T, m *Main) string {
	t.Helper()
	resp, err := http.Get(m.URL + "/metrics")
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

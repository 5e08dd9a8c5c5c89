package graph

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/graph/graphtest"
)

// margin is how far past its deadline a call may answer on a busy, race-instrumented machine.
const margin = 400 * time.Millisecond

// repeatable says which calls repeat an attempt after Graph may have acted on it.
var repeatable = map[string]bool{"phone_numbers": true, "verify_code": true, "request_code": false, "register": false, "deregister": false}

// wireCode returns the wire code of err, "" for nil.
func wireCode(err error) string {
	if we := WireError(err); we != nil {
		return we.Code
	}
	return ""
}

// closedURL returns the URL of a port on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// Hung connections: every call answers within its deadline, every time, with
// ServiceUnavailable; calls that may not repeat a request sent it once.
func TestClient_hungConnection(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, hung := range []struct {
		name  string
		fault graphtest.Fault
	}{{"no answer", hang}, {"body never ends", hangBody}} {
		for _, call := range calls {
			t.Run(hung.name+"/"+call.edge, func(t *testing.T) {
				t.Parallel()
				g := newGraph(t)
				g.FailAll(call.edge, hung.fault)
				c, log := newTestClient(t, g)
				c.Timeout = timeout
				c.BreakerThreshold = -1 // this test is about deadlines, not the breaker
				const rounds = 3
				for i := range rounds {
					log.reset()
					start := time.Now()
					err := call.do(t.Context(), c)
					if elapsed := time.Since(start); elapsed > timeout+margin {
						t.Errorf("round %d answered after %v, deadline %v", i, elapsed, timeout)
					}
					if !errors.Is(err, context.DeadlineExceeded) || wireCode(err) != camsd.CodeServiceUnavailable {
						t.Errorf("round %d: err = %v, want ServiceUnavailable past the deadline", i, err)
					}
					want := 1
					if repeatable[call.edge] {
						want = 3 // each cut at its share of the deadline
					}
					if got := log.count(); got != want {
						t.Errorf("round %d: attempts = %d, want %d", i, got, want)
					}
				}
				if hits := g.Hits(call.edge); !repeatable[call.edge] && hits != rounds {
					t.Errorf("%s hits = %d over %d calls, want one each", call.edge, hits, rounds)
				}
			})
		}
	}
}

// A hung first attempt leaves room for the others when the call may be repeated.
func TestClient_hungThenAnswered(t *testing.T) {
	g := newGraph(t)
	g.Fail("verify_code", hang)
	c, log := newTestClient(t, g)
	c.Timeout = 600 * time.Millisecond
	start := time.Now()
	if err := c.VerifyCode(t.Context(), "1", "123456"); err != nil {
		t.Fatalf("err = %v, want success on the second attempt", err)
	}
	if elapsed := time.Since(start); elapsed > c.Timeout/3+margin {
		t.Errorf("answered after %v: the first attempt was not cut at a third of the deadline", elapsed)
	}
	if got := log.count(); got != 2 {
		t.Errorf("attempts = %d, want 2", got)
	}
}

func TestClient_reset(t *testing.T) {
	for _, call := range calls {
		t.Run(call.edge, func(t *testing.T) {
			g := newGraph(t)
			g.FailAll(call.edge, reset)
			c, log := newTestClient(t, g)
			err := call.do(t.Context(), c)
			if !errors.Is(err, ErrUnavailable) || wireCode(err) != camsd.CodeServiceUnavailable {
				t.Errorf("err = %v, want ServiceUnavailable", err)
			}
			want := 1
			if repeatable[call.edge] {
				want = 3
			}
			if got, hits := log.count(), g.Hits(call.edge); got != want || hits != want {
				t.Errorf("attempts = %d, hits = %d, want %d", got, hits, want)
			}
		})
	}
}

func TestClient_5xxBurst(t *testing.T) {
	internal := fail(http.StatusInternalServerError, 2, 0, false, "Service temporarily unavailable")
	unavailable := raw(503, "text/plain", "unavailable")
	tests := []struct {
		name     string
		edge     string
		faults   []graphtest.Fault // then Graph does the work
		wantCode string            // "" for success
		attempts int
	}{
		{"verify_code: two 500 then 200", "verify_code", []graphtest.Fault{internal, internal}, "", 3},
		{"verify_code: three 500", "verify_code", []graphtest.Fault{internal, internal, internal}, camsd.CodeServiceUnavailable, 3},
		{"phone_numbers: two 500 then 200", "phone_numbers", []graphtest.Fault{internal, internal}, "", 3},
		{"phone_numbers: three 503", "phone_numbers", []graphtest.Fault{unavailable, unavailable, unavailable}, camsd.CodeServiceUnavailable, 3},
		{"request_code: 500 is not repeated", "request_code", []graphtest.Fault{internal}, camsd.CodeServiceUnavailable, 1},
		{"register: 500 is not repeated", "register", []graphtest.Fault{internal}, camsd.CodeServiceUnavailable, 1},
		{"deregister: 500 is not repeated", "deregister", []graphtest.Fault{internal}, camsd.CodeServiceUnavailable, 1},
		{"deregister: 503 is not repeated", "deregister", []graphtest.Fault{unavailable}, camsd.CodeServiceUnavailable, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t)
			g.Fail(tt.edge, tt.faults...)
			c, log := newTestClient(t, g)
			err := do(t.Context(), c, tt.edge)
			if got := wireCode(err); got != tt.wantCode {
				t.Errorf("err = %v, want code %q", err, tt.wantCode)
			}
			if got, hits := log.count(), g.Hits(tt.edge); got != tt.attempts || hits != tt.attempts {
				t.Errorf("attempts = %d, hits = %d, want %d", got, hits, tt.attempts)
			}
			if s := c.Stats(); s.Attempts != int64(tt.attempts) || s.Retries != int64(tt.attempts-1) || s.Calls != 1 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

// A throttled answer proves Graph did nothing, so every call repeats it, request_code too.
func TestClient_throttling(t *testing.T) {
	for _, call := range calls {
		t.Run(call.edge+" recovers", func(t *testing.T) {
			g := newGraph(t)
			g.Fail(call.edge, fail(400, 80007, 0, false, "Rate limit issues"), raw(429, "text/plain", "slow down"))
			c, log := newTestClient(t, g)
			if err := call.do(t.Context(), c); err != nil {
				t.Fatalf("err = %v, want success on the third attempt", err)
			}
			if got := log.count(); got != 3 {
				t.Errorf("attempts = %d, want 3", got)
			}
		})
		t.Run(call.edge+" stays throttled", func(t *testing.T) {
			g := newGraph(t)
			g.FailAll(call.edge, fail(400, 4, 0, false, "Application request limit reached"))
			c, log := newTestClient(t, g)
			err := call.do(t.Context(), c)
			if got := wireCode(err); got != camsd.CodeSystemLimitControl {
				t.Errorf("code = %s (%v), want System.LimitControl", got, err)
			}
			if got := log.count(); got != 3 {
				t.Errorf("attempts = %d, want 3", got)
			}
		})
	}
}

// Whatever goes wrong after the request may have reached Graph, one request_code call sends
// one request.
func TestClient_RequestCode_neverDuplicated(t *testing.T) {
	failures := []struct {
		name  string
		fault graphtest.Fault
	}{
		{"hung", hang},
		{"hung body", hangBody},
		{"reset", reset},
		{"500", fail(500, 1, 0, true, "An unknown error occurred")},
		{"502 html", raw(502, "text/html", "<html>Bad Gateway</html>")},
		{"503", fail(503, 133004, 0, false, "Server temporarily unavailable")},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGraph(t)
			c, log := newTestClient(t, g)
			c.Timeout = 300 * time.Millisecond
			const rounds = 3
			for i := range rounds {
				g.Clear("request_code")
				g.Fail("request_code", tt.fault) // then Graph would send a code
				if err := c.RequestCode(t.Context(), testNumber, "SMS", "en_US"); err == nil {
					t.Fatalf("round %d: success after the first request failed", i)
				}
			}
			if hits, got := g.Hits("request_code"), log.count(); hits != rounds || got != rounds {
				t.Errorf("hits = %d, attempts = %d over %d calls, want one each", hits, got, rounds)
			}
		})
	}
}

// No connection means no request left: every call repeats it, request_code and register too.
func TestClient_connectionRefused(t *testing.T) {
	url := closedURL(t)
	for _, call := range calls {
		t.Run(call.edge, func(t *testing.T) {
			log := &attemptLog{}
			c := &Client{BaseURL: url, Token: testToken, Backoff: time.Millisecond, OnAttempt: log.record}
			err := call.do(t.Context(), c)
			if !errors.Is(err, syscall.ECONNREFUSED) || wireCode(err) != camsd.CodeServiceUnavailable {
				t.Errorf("err = %v, want ServiceUnavailable for a refused connection", err)
			}
			if got := log.count(); got != 3 {
				t.Errorf("attempts = %d, want 3", got)
			}
		})
	}
}

func TestClient_refusedThenAccepted(t *testing.T) {
	g := newGraph(t)
	var dials atomic.Int32
	d := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c, log := newTestClient(t, g)
	c.HTTP = &http.Client{Transport: tr}
	if err := c.RequestCode(t.Context(), testNumber, "SMS", "en_US"); err != nil {
		t.Fatalf("err = %v, want success on the second attempt", err)
	}
	if got, hits := log.count(), g.Hits("request_code"); got != 2 || hits != 1 {
		t.Errorf("attempts = %d, hits = %d, want 2 and 1", got, hits)
	}
}

func TestClient_MaxRetries(t *testing.T) {
	for _, tt := range []struct{ maxRetries, attempts int }{{-1, 1}, {1, 2}, {0, 3}} {
		g := newGraph(t)
		g.FailAll("verify_code", fail(500, 2, 0, true, "Service temporarily unavailable"))
		c, log := newTestClient(t, g)
		c.MaxRetries = tt.maxRetries
		_ = c.VerifyCode(t.Context(), "1", "123456")
		if got := log.count(); got != tt.attempts {
			t.Errorf("MaxRetries %d: attempts = %d, want %d", tt.maxRetries, got, tt.attempts)
		}
	}
}

// The caller's shorter deadline wins over Timeout.
func TestClient_callerDeadline(t *testing.T) {
	g := newGraph(t)
	g.FailAll("verify_code", hang)
	c, _ := newTestClient(t, g)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.VerifyCode(ctx, "1", "123456")
	if elapsed := time.Since(start); elapsed > 200*time.Millisecond+margin {
		t.Errorf("answered after %v, caller's deadline 200ms", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want past the deadline", err)
	}
}

// No retry starts unless its back-off fits before the deadline.
func TestClient_backoffWithinDeadline(t *testing.T) {
	g := newGraph(t)
	g.FailAll("verify_code", fail(500, 2, 0, true, "Service temporarily unavailable"))
	c, log := newTestClient(t, g)
	c.Timeout, c.Backoff = 300*time.Millisecond, time.Second
	start := time.Now()
	err := c.VerifyCode(t.Context(), "1", "123456")
	if elapsed := time.Since(start); elapsed > c.Timeout+margin {
		t.Errorf("answered after %v, deadline %v", elapsed, c.Timeout)
	}
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 500 {
		t.Errorf("err = %v, want the last answer, a 500", err)
	}
	if got := log.count(); got != 1 {
		t.Errorf("attempts = %d, want 1: a 1s back-off does not fit in 300ms", got)
	}
}

func TestJittered(t *testing.T) {
	const base = 50 * time.Millisecond
	for retry := 1; retry <= 3; retry++ {
		full := base << (retry - 1)
		for range 1000 {
			if d := jittered(base, retry); d < full/2 || d > full {
				t.Fatalf("retry %d: back-off %v outside [%v, %v]", retry, d, full/2, full)
			}
		}
	}
	if d := jittered(0, 1); d != 0 {
		t.Errorf("no base: back-off %v", d)
	}
}

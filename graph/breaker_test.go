package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/graph/graphtest"
)

var internal500 = fail(http.StatusInternalServerError, 2, 0, true, "Service temporarily unavailable")

// newBrokenGraph returns a fake whose verify_code always answers 500 and a Client of it on a
// fake clock.
func newBrokenGraph(t *testing.T) (*graphtest.Server, *Client, *fakeClock) {
	g := newGraph(t)
	g.FailAll("verify_code", internal500)
	c, _ := newTestClient(t, g)
	clock := newFakeClock()
	c.Now = clock.Now
	return g, c, clock
}

func TestClient_breakerOpens(t *testing.T) {
	g, c, _ := newBrokenGraph(t)

	// Five consecutive failed attempts open it: three in the first call, two in the second.
	for range 2 {
		err := c.VerifyCode(t.Context(), "1", "123456")
		if got := wireCode(err); got != camsd.CodeServiceUnavailable {
			t.Fatalf("code = %s (%v), want ServiceUnavailable", got, err)
		}
	}
	if hits := g.Hits("verify_code"); hits != 5 {
		t.Errorf("hits = %d, want 5", hits)
	}
	if s := c.Stats(); s.Breaker != BreakerOpen || s.Opens != 1 || s.Failures != 5 || s.Rejected != 1 {
		t.Errorf("stats = %+v, want open once after 5 failures, 1 attempt refused", s)
	}

	// While open, calls fail at once without touching the network, whatever the edge.
	for _, call := range calls {
		start := time.Now()
		err := call.do(t.Context(), c)
		if !errors.Is(err, ErrBreakerOpen) {
			t.Errorf("%s: err = %v, want ErrBreakerOpen", call.edge, err)
		}
		if we := WireError(err); we.Code != camsd.CodeServiceUnavailable {
			t.Errorf("%s: code = %s, want ServiceUnavailable", call.edge, we.Code)
		}
		if elapsed := time.Since(start); elapsed > 50*time.Millisecond {
			t.Errorf("%s: refused after %v, want at once", call.edge, elapsed)
		}
	}
	if n := len(g.Requests()); n != 5 {
		t.Errorf("requests = %d, want still 5", n)
	}
}

func TestClient_breakerHalfOpen(t *testing.T) {
	g, c, clock := newBrokenGraph(t)
	for range 2 {
		_ = c.VerifyCode(t.Context(), "1", "123456")
	}

	clock.Advance(DefaultBreakerCooldown - time.Second)
	if err := c.VerifyCode(t.Context(), "1", "123456"); !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("before the cool-down: err = %v, want ErrBreakerOpen", err)
	}
	clock.Advance(time.Second)
	if s := c.Stats(); s.Breaker != BreakerHalfOpen {
		t.Errorf("after the cool-down: state = %v, want half-open", s.Breaker)
	}

	t.Run("failed probe reopens", func(t *testing.T) {
		before := g.Hits("verify_code")
		err := c.VerifyCode(t.Context(), "1", "123456")
		var ge *Error
		if !errors.As(err, &ge) || ge.Status != 500 {
			t.Errorf("err = %v, want the probe's 500", err)
		}
		if got := g.Hits("verify_code") - before; got != 1 {
			t.Errorf("hits = %d, want the probe alone", got)
		}
		if s := c.Stats(); s.Breaker != BreakerOpen || s.Opens != 2 {
			t.Errorf("stats = %+v, want open again", s)
		}
	})

	t.Run("successful probe closes", func(t *testing.T) {
		clock.Advance(DefaultBreakerCooldown)
		g.Clear("verify_code")
		if err := c.VerifyCode(t.Context(), "1", "123456"); err != nil {
			t.Fatalf("probe: %v", err)
		}
		if s := c.Stats(); s.Breaker != BreakerClosed {
			t.Errorf("state = %v, want closed", s.Breaker)
		}
		if err := c.RequestCode(t.Context(), "1", "SMS", "en_US"); err != nil {
			t.Errorf("after closing: %v", err)
		}
	})
}

// While the probe is in flight, other calls fail at once.
func TestClient_breakerOneProbe(t *testing.T) {
	g, c, clock := newBrokenGraph(t)
	for range 2 {
		_ = c.VerifyCode(t.Context(), "1", "123456")
	}
	clock.Advance(DefaultBreakerCooldown)
	open := make(chan struct{})
	g.Clear("verify_code")
	g.Fail("verify_code", graphtest.Fault{Wait: open}) // then Graph does the work

	probe := make(chan error, 1)
	go func() { probe <- c.VerifyCode(t.Context(), "1", "123456") }()
	deadline := time.Now().Add(5 * time.Second)
	for g.Hits("verify_code") < 6 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := c.RequestCode(t.Context(), "1", "SMS", "en_US"); !errors.Is(err, ErrBreakerOpen) {
		t.Errorf("during the probe: err = %v, want ErrBreakerOpen", err)
	}
	if hits := g.Hits("request_code"); hits != 0 {
		t.Errorf("request_code hits = %d during the probe, want 0", hits)
	}
	close(open)
	if err := <-probe; err != nil {
		t.Errorf("probe: %v", err)
	}
	if s := c.Stats(); s.Breaker != BreakerClosed {
		t.Errorf("state = %v, want closed", s.Breaker)
	}
}

// Graph answering, even with an error, shows it is up: the count starts over.
func TestClient_breakerCountsConsecutiveFailures(t *testing.T) {
	g := newGraph(t)
	g.Fail("verify_code", internal500, internal500, internal500, internal500,
		fail(400, 136025, 0, false, "Verify code error"),
		internal500, internal500, internal500, internal500)
	c, _ := newTestClient(t, g)
	c.MaxRetries = -1
	for range 9 {
		_ = c.VerifyCode(t.Context(), "1", "123456")
	}
	if s := c.Stats(); s.Breaker != BreakerClosed || s.Opens != 0 {
		t.Errorf("stats = %+v, want closed: never 5 failures in a row", s)
	}
}

// Cancelling a call says nothing about Graph.
func TestClient_breakerIgnoresCancellation(t *testing.T) {
	g := newGraph(t)
	g.FailAll("verify_code", hang)
	c, _ := newTestClient(t, g)
	c.BreakerThreshold = 1
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	_ = c.VerifyCode(ctx, "1", "123456")
	if s := c.Stats(); s.Breaker != BreakerClosed {
		t.Errorf("state = %v after a cancelled call, want closed", s.Breaker)
	}
}

func TestClient_breakerDisabled(t *testing.T) {
	g, c, _ := newBrokenGraph(t)
	c.BreakerThreshold = -1
	for range 4 {
		_ = c.VerifyCode(t.Context(), "1", "123456")
	}
	if hits := g.Hits("verify_code"); hits != 12 {
		t.Errorf("hits = %d, want 12: no breaker", hits)
	}
	if s := c.Stats(); s.Breaker != BreakerClosed || s.Rejected != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestBreakerState_String(t *testing.T) {
	for s, want := range map[BreakerState]string{BreakerClosed: "closed", BreakerOpen: "open", BreakerHalfOpen: "half-open", 9: "unknown"} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", s, got, want)
		}
	}
}

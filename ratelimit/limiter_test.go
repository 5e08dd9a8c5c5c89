package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ratelimit"
	"github.com/google/go-cmp/cmp"
)

// clock is a settable fake clock. Tests that use it call the limiter from one goroutine.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Set(t time.Time)         { c.t = t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func ms(n int) time.Duration             { return time.Duration(n) * time.Millisecond }
func newClock() (*clock, *ratelimit.Limiter) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return c, &ratelimit.Limiter{Now: c.Now}
}

// allow calls l and fails the test on error.
func allow(t *testing.T, l camsd.Limiter, key string, limit int) camsd.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("Allow(%q, %d): %v", key, limit, err)
	}
	return d
}

func TestLimiter_Allow(t *testing.T) {
	t.Run("burst of the limit after an idle second is all admitted", func(t *testing.T) {
		c, l := newClock()
		for round := range 3 {
			for i := range 10 {
				if d := allow(t, l, "acct", 10); !d.Allowed {
					t.Fatalf("round %d call %d refused: %+v", round, i, d)
				}
			}
			want := camsd.Decision{RetryAfter: time.Second, At: c.Now()}
			if diff := cmp.Diff(want, allow(t, l, "acct", 10)); diff != "" {
				t.Fatalf("round %d call 11 (-want +got):\n%s", round, diff)
			}
			c.Advance(time.Second + ms(500))
		}
	})

	t.Run("refused calls do not consume quota", func(t *testing.T) {
		c, l := newClock()
		t0 := c.Now()
		for i := range 10 { // one every 10ms: t0, t0+10ms, ..., t0+90ms
			c.Set(t0.Add(ms(10 * i)))
			allow(t, l, "acct", 10)
		}
		for i := range 900 { // hammer through the rest of the full window
			c.Set(t0.Add(ms(100 + i)))
			want := camsd.Decision{RetryAfter: t0.Add(time.Second).Sub(c.Now()), At: c.Now()}
			if diff := cmp.Diff(want, allow(t, l, "acct", 10)); diff != "" {
				t.Fatalf("at +%dms (-want +got):\n%s", 100+i, diff)
			}
		}
		c.Set(t0.Add(time.Second)) // the oldest admission leaves: exactly one more
		if d := allow(t, l, "acct", 10); !d.Allowed {
			t.Fatalf("at oldest+1s refused: %+v", d)
		}
		want := camsd.Decision{RetryAfter: ms(10), At: c.Now()}
		if diff := cmp.Diff(want, allow(t, l, "acct", 10)); diff != "" {
			t.Fatalf("second call at oldest+1s (-want +got):\n%s", diff)
		}
		c.Set(t0.Add(ms(1010)))
		if d := allow(t, l, "acct", 10); !d.Allowed {
			t.Fatalf("at second-oldest+1s refused: %+v", d)
		}
	})

	t.Run("RetryAfter is when the oldest admission leaves", func(t *testing.T) {
		c, l := newClock()
		t0 := c.Now()
		for _, at := range []int{0, 250, 700} {
			c.Set(t0.Add(ms(at)))
			allow(t, l, "acct", 3)
		}
		for _, tc := range []struct {
			at        int
			allowed   bool
			retryWant int
		}{
			{800, false, 200},
			{999, false, 1},
			{1000, true, 0},    // 0 left; holds 250, 700, 1000
			{1100, false, 150}, // 250 leaves at 1250
			{1250, true, 0},
			{1251, false, 449}, // 700 leaves at 1700
		} {
			c.Set(t0.Add(ms(tc.at)))
			want := camsd.Decision{Allowed: tc.allowed, RetryAfter: ms(tc.retryWant), At: c.Now()}
			if diff := cmp.Diff(want, allow(t, l, "acct", 3)); diff != "" {
				t.Errorf("at +%dms (-want +got):\n%s", tc.at, diff)
			}
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		_, l := newClock()
		allow(t, l, "a", 1)
		if d := allow(t, l, "a", 1); d.Allowed {
			t.Fatal("second call for a admitted")
		}
		if d := allow(t, l, "b", 1); !d.Allowed {
			t.Fatal("first call for b refused")
		}
	})

	t.Run("limit change applies to the admissions already in the window", func(t *testing.T) {
		c, l := newClock()
		t0 := c.Now()
		admit := func(n, limit int) {
			t.Helper()
			for i := range n {
				if d := allow(t, l, "acct", limit); !d.Allowed {
					t.Fatalf("at +%v limit %d call %d refused: %+v", c.Now().Sub(t0), limit, i, d)
				}
			}
			if d := allow(t, l, "acct", limit); d.Allowed {
				t.Fatalf("at +%v limit %d call %d admitted", c.Now().Sub(t0), limit, n)
			}
		}
		admit(10, 10)
		c.Set(t0.Add(ms(500)))
		admit(10, 20) // raised: room for 10 more
		c.Set(t0.Add(ms(600)))
		// Lowered to 5 with 20 in the window: 16 must leave, the 16th oldest at +500ms.
		want := camsd.Decision{RetryAfter: ms(900), At: c.Now()}
		if diff := cmp.Diff(want, allow(t, l, "acct", 5)); diff != "" {
			t.Fatalf("lowered (-want +got):\n%s", diff)
		}
		c.Set(t0.Add(time.Second))
		want = camsd.Decision{RetryAfter: ms(500), At: c.Now()}
		if diff := cmp.Diff(want, allow(t, l, "acct", 5)); diff != "" {
			t.Fatalf("lowered, first 10 gone (-want +got):\n%s", diff)
		}
		c.Set(t0.Add(ms(1500)))
		admit(5, 5)
	})

	t.Run("a clock going backwards never admits over the limit", func(t *testing.T) {
		c, l := newClock()
		t0 := c.Now()
		var admitted []time.Time
		call := func(at int) camsd.Decision {
			c.Set(t0.Add(ms(at)))
			d := allow(t, l, "acct", 2)
			if d.Allowed {
				admitted = append(admitted, d.At)
			}
			return d
		}
		call(900)
		call(950)
		// Back to +0: a limiter deciding at +0 would see an empty window and admit.
		want := camsd.Decision{RetryAfter: ms(950), At: t0.Add(ms(950))}
		if diff := cmp.Diff(want, call(0)); diff != "" {
			t.Fatalf("clock stepped back (-want +got):\n%s", diff)
		}
		for _, at := range []int{100, 1500, 1899} {
			if d := call(at); d.Allowed {
				t.Fatalf("at +%dms admitted with +900 and +950 in the window", at)
			}
		}
		if d := call(1900); !d.Allowed {
			t.Fatalf("at +1900ms refused: %+v", d)
		}
		if err := checkWindows(admitted, 2); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Decision.At is the clock reading", func(t *testing.T) {
		c, l := newClock()
		c.Advance(ms(1234))
		if d := allow(t, l, "acct", 1); !d.At.Equal(c.Now()) {
			t.Fatalf("At = %v, want %v", d.At, c.Now())
		}
	})

	t.Run("a limit that is not positive is an error", func(t *testing.T) {
		l := ratelimit.New()
		for _, limit := range []int{0, -1} {
			if _, err := l.Allow(context.Background(), "acct", limit); err == nil {
				t.Errorf("Allow(limit %d) gave no error", limit)
			}
		}
	})

	t.Run("the zero Limiter uses the real clock", func(t *testing.T) {
		var l ratelimit.Limiter
		before := time.Now()
		d := allow(t, &l, "acct", 1)
		if !d.Allowed || d.At.Before(before) || d.At.After(time.Now()) {
			t.Fatalf("got %+v, want admitted at a time after %v", d, before)
		}
	})
}

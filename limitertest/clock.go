package limitertest

import (
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

// clock is a settable fake clock. Tests that use it call the limiter from one goroutine.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Set(t time.Time)         { c.t = t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// RunWithClock runs the exact decisions of the contract against limiters made by newLimiter on
// a fake clock: newLimiter returns a fresh limiter, holding no admission for any key, that reads
// the time from now, at a resolution of a microsecond or finer. The suite calls each limiter
// from one goroutine.
//
// Besides the rule, it asks one thing of a limiter's clock: when the clock goes back, the
// limiter decides at the latest time it has already used for the key (and reports that time as
// Decision.At), because deciding in the past could admit a call that, in real time, puts more
// than limit in the window.
func RunWithClock(t *testing.T, newLimiter func(t *testing.T, now func() time.Time) camsd.Limiter) {
	start := func(t *testing.T) (*clock, camsd.Limiter) {
		c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		return c, newLimiter(t, c.Now)
	}

	t.Run("burst of the limit after an idle second is all admitted", func(t *testing.T) {
		c, l := start(t)
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
		c, l := start(t)
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
		c, l := start(t)
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

	t.Run("an admission leaves the window exactly one second after it", func(t *testing.T) {
		c, l := start(t)
		t0 := c.Now()
		allow(t, l, "acct", 1)
		c.Set(t0.Add(time.Second - time.Microsecond))
		want := camsd.Decision{RetryAfter: time.Microsecond, At: c.Now()}
		if diff := cmp.Diff(want, allow(t, l, "acct", 1)); diff != "" {
			t.Fatalf("1µs before (-want +got):\n%s", diff)
		}
		c.Set(t0.Add(time.Second))
		if d := allow(t, l, "acct", 1); !d.Allowed {
			t.Fatalf("at +1s refused: %+v", d)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		_, l := start(t)
		allow(t, l, "a", 1)
		if d := allow(t, l, "a", 1); d.Allowed {
			t.Fatal("second call for a admitted")
		}
		if d := allow(t, l, "b", 1); !d.Allowed {
			t.Fatal("first call for b refused")
		}
	})

	t.Run("limit change applies to the admissions already in the window", func(t *testing.T) {
		c, l := start(t)
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
		c, l := start(t)
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
		if err := CheckWindows(admitted, 2); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Decision.At is the clock reading", func(t *testing.T) {
		c, l := start(t)
		c.Advance(ms(1234))
		if d := allow(t, l, "acct", 1); !d.At.Equal(c.Now()) {
			t.Fatalf("At = %v, want %v", d.At, c.Now())
		}
	})

	t.Run("script", func(t *testing.T) {
		got, admitted := runScript(t, newLimiter)

		t.Run("no window over the limit", func(t *testing.T) {
			for key, limit := range checked {
				if err := CheckWindows(admitted[key], limit); err != nil {
					t.Errorf("key %s: %v", key, err)
				}
			}
		})

		// The checker alone would pass a limiter that refuses everything; the oracle pins
		// every decision, so the limiter admits exactly what the rule admits and no less.
		t.Run("every decision is the oracle's", func(t *testing.T) {
			want, _ := runScript(t, func(_ *testing.T, now func() time.Time) camsd.Limiter { return newOracle(now) })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decisions (-oracle +limiter):\n%s", diff)
			}
			n := 0
			for _, d := range got {
				if d.Allowed {
					n++
				}
			}
			// Key a alone admits 10 per second over 3s of steady traffic.
			if n < 30 {
				t.Errorf("%d admitted over the script, want a working limiter", n)
			}
		})
	})
}

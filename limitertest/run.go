package limitertest

import (
	"context"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// Run runs the contract on the real clock against limiters made by newLimiter, which returns a
// fresh limiter holding no admission for any key and arranges (with t.Cleanup) for whatever it
// opened to be closed. The limiter must be safe for concurrent use. Run takes a few seconds:
// the cases that wait for the window to pass run in parallel, after the concurrent one.
//
// Times are judged only by the limiter's own clock, Decision.At, so a limiter whose clock is
// another machine's (Redis's TIME) is judged the same way; the one assumption is that its clock
// runs at the rate of this process's, so that sleeping for a RetryAfter is waiting for it.
func Run(t *testing.T, newLimiter func(t *testing.T) camsd.Limiter) {
	t.Run("concurrent callers: no rolling second over the limit, close to the ideal", func(t *testing.T) {
		d := 2500 * time.Millisecond
		if testing.Short() {
			d = 1200 * time.Millisecond
		}
		loads := []Load{
			{"hot", 10, 24},
			{"a", 1, 8},
			{"b", 3, 8},
			{"c", 50, 8},
			{"d", 200, 16},
		}
		admitted, elapsed := Hammer(t, newLimiter(t), loads, d)
		for _, ld := range loads {
			ts := admitted[ld.Key]
			if err := CheckWindows(ts, ld.Limit); err != nil {
				t.Errorf("key %s: %v", ld.Key, err)
			}
			if err := CheckSaturated(ts, ld.Limit, d, elapsed); err != nil {
				t.Errorf("key %s: %v", ld.Key, err)
			}
			t.Logf("key %s limit %d: %d admitted in %.2fs", ld.Key, ld.Limit, len(ts), elapsed.Seconds())
		}
	})

	t.Run("a limit that is not positive is an error", func(t *testing.T) {
		l := newLimiter(t)
		for _, limit := range []int{0, -1} {
			if _, err := l.Allow(context.Background(), "acct", limit); err == nil {
				t.Errorf("Allow(limit %d) gave no error", limit)
			}
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		l := newLimiter(t)
		allow(t, l, "a", 1)
		if d := allow(t, l, "a", 1); d.Allowed {
			t.Fatal("second call for a admitted")
		}
		if d := allow(t, l, "b", 1); !d.Allowed {
			t.Fatal("first call for b refused")
		}
	})

	t.Run("limit change applies to the admissions already in the window", func(t *testing.T) {
		l := newLimiter(t)
		var in []camsd.Decision
		admit := func(n, limit int) {
			t.Helper()
			for i := range n {
				d := allow(t, l, "acct", limit)
				if !d.Allowed {
					t.Fatalf("limit %d call %d refused: %+v", limit, i, d)
				}
				in = append(in, d)
			}
		}
		admit(5, 5)
		refused(t, l, "acct", 5, in)
		admit(5, 10) // raised: room for 5 more
		refused(t, l, "acct", 10, in)
		refused(t, l, "acct", 3, in) // lowered: 8 must leave
	})

	// The rest wait for the window to pass, so they share the wait.
	t.Run("burst of the limit after an idle second is all admitted", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		for round := range 2 {
			var in []camsd.Decision
			for i := range 10 {
				d := allow(t, l, "acct", 10)
				if !d.Allowed {
					t.Fatalf("round %d call %d refused: %+v", round, i, d)
				}
				in = append(in, d)
			}
			refused(t, l, "acct", 10, in)
			time.Sleep(time.Second + 20*time.Millisecond)
		}
	})

	t.Run("RetryAfter is when the oldest admission leaves", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		var in []camsd.Decision
		for i := range 3 {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			in = append(in, allow(t, l, "acct", 3))
		}
		d := refused(t, l, "acct", 3, in)
		time.Sleep(d.RetryAfter + 2*time.Millisecond)
		next := allow(t, l, "acct", 3)
		if !next.Allowed {
			t.Fatalf("refused after waiting RetryAfter %v: %+v", d.RetryAfter, next)
		}
		refused(t, l, "acct", 3, append(in[1:], next))
	})

	t.Run("refused calls do not consume quota", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		var in []camsd.Decision
		for range 3 {
			in = append(in, allow(t, l, "acct", 3))
		}
		// Call every millisecond until one is admitted. Were refused calls counted, the
		// window would never have room again.
		var last camsd.Decision
		deadline := time.Now().Add(3 * time.Second)
		for i := 0; ; i++ {
			if i == 5000 || time.Now().After(deadline) {
				t.Fatalf("no call admitted in %d calls over 3s: refused calls count", i)
			}
			d := allow(t, l, "acct", 3)
			if d.Allowed {
				if i == 0 {
					t.Fatalf("admitted at once: %+v", d)
				}
				if d.At.Sub(in[0].At) < time.Second {
					t.Errorf("admitted at %v, %v after the oldest admission", d.At, d.At.Sub(in[0].At))
				}
				if d.At.Sub(last.At) >= time.Second {
					t.Errorf("the last refusal, at %v, is not in the admission's window (%v)", last.At, d.At)
				}
				break
			}
			checkRetryAfter(t, d, in, 3)
			last = d
			time.Sleep(time.Millisecond)
		}
	})
}

// refused calls l and checks that the call is refused with the RetryAfter that in, the
// admissions in the window oldest first, imply.
func refused(t *testing.T, l camsd.Limiter, key string, limit int, in []camsd.Decision) camsd.Decision {
	t.Helper()
	d := allow(t, l, key, limit)
	if d.Allowed {
		t.Fatalf("call %d at limit %d admitted: %+v", len(in)+1, limit, d)
	}
	checkRetryAfter(t, d, in, limit)
	return d
}

// checkRetryAfter checks a refusal against in, the admissions in the window oldest first:
// the call waits for the (len(in)-limit)th oldest to leave, and no longer than a second.
func checkRetryAfter(t *testing.T, d camsd.Decision, in []camsd.Decision, limit int) {
	t.Helper()
	if len(in) < limit {
		t.Fatalf("refused with %d admissions held, limit %d: %+v", len(in), limit, d)
	}
	edge := in[len(in)-limit].At
	if want := edge.Add(time.Second).Sub(d.At); d.RetryAfter != want {
		t.Errorf("RetryAfter = %v at %v, want %v: the %dth oldest admission, at %v, leaves then",
			d.RetryAfter, d.At, want, len(in)-limit+1, edge)
	}
	if d.RetryAfter <= 0 || d.RetryAfter > time.Second {
		t.Errorf("RetryAfter = %v, want in (0, 1s]", d.RetryAfter)
	}
}

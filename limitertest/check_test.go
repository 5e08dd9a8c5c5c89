package limitertest

import (
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// The checkers are themselves tested both ways, so that a pass means something.
func TestCheckWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Time {
		ts := make([]time.Time, len(ms))
		for i, m := range ms {
			ts[i] = t0.Add(time.Duration(m) * time.Millisecond)
		}
		return ts
	}
	for _, tc := range []struct {
		name  string
		times []time.Time
		limit int
		ok    bool
	}{
		{"empty", nil, 1, true},
		{"limit in one instant", at(0, 0, 0), 3, true},
		{"one over in one instant", at(0, 0, 0, 0), 3, false},
		{"one over within 999ms", at(0, 500, 999), 2, false},
		{"exactly 1s apart is two windows", at(0, 500, 1000), 2, true},
		{"over in a later window", at(0, 1000, 1500, 1999), 2, false},
		{"ties at the window end count", at(0, 900, 900), 2, false},
		{"steady at the limit", at(0, 100, 1000, 1100, 2000, 2100), 2, true},
		{"unsorted", at(10, 0), 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckWindows(tc.times, tc.limit)
			if (err == nil) != tc.ok {
				t.Errorf("CheckWindows = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestCheckSaturated(t *testing.T) {
	times := func(n int) []time.Time { return make([]time.Time, n) }
	for _, tc := range []struct {
		name       string
		n, limit   int
		d, elapsed time.Duration
		ok         bool
	}{
		{"three generations in 2.5s", 30, 10, 2500 * time.Millisecond, 2600 * time.Millisecond, true},
		{"two generations in 2.5s", 20, 10, 2500 * time.Millisecond, 2600 * time.Millisecond, true},
		{"one generation short", 19, 10, 2500 * time.Millisecond, 2600 * time.Millisecond, false},
		{"one over", 31, 10, 2500 * time.Millisecond, 2600 * time.Millisecond, false},
		{"a slow stop allows another generation", 40, 10, 2500 * time.Millisecond, 3100 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSaturated(times(tc.n), tc.limit, tc.d, tc.elapsed)
			if (err == nil) != tc.ok {
				t.Errorf("CheckSaturated = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// The script must expose the designs the rule forbids; if it did not, a limiter passing
// RunWithClock would prove nothing about them.
func TestControls_script(t *testing.T) {
	for name, newLimiter := range map[string]func(t *testing.T, now func() time.Time) camsd.Limiter{
		"fixed window": func(_ *testing.T, now func() time.Time) camsd.Limiter {
			return newFixedWindow(now, scriptStart.Truncate(time.Second))
		},
		"token bucket": func(_ *testing.T, now func() time.Time) camsd.Limiter { return newTokenBucket(now) },
	} {
		t.Run(name, func(t *testing.T) {
			_, admitted := runScript(t, newLimiter)
			err := CheckWindows(admitted["a"], checked["a"])
			if err == nil {
				t.Fatal("checker passed the control; it would not catch this design")
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}

// The controls under hammering on the real clock must fail the checker, or Run could not tell
// an exact window from the designs it replaces.
func TestControls_concurrent(t *testing.T) {
	loads := []Load{{"hot", 10, 256}}
	for name, newLimiter := range map[string]func() camsd.Limiter{
		// Window edges half a second after the start: the first window fills at once and
		// the next fills at its edge.
		"fixed window": func() camsd.Limiter { return newFixedWindow(time.Now, time.Now().Add(500*time.Millisecond)) },
		"token bucket": func() camsd.Limiter { return newTokenBucket(time.Now) },
	} {
		t.Run(name, func(t *testing.T) {
			admitted, _ := Hammer(t, newLimiter(), loads, 1100*time.Millisecond)
			err := CheckWindows(admitted["hot"], 10)
			if err == nil {
				t.Fatal("checker passed the control; it would not catch this design")
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}

package ratelimit_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ratelimit"
	"github.com/google/go-cmp/cmp"
)

// call is one scripted call: at an offset from the script's start, for a key and limit.
type call struct {
	at    time.Duration
	key   string
	limit int
}

// checked are the script's keys with a fixed limit, which checkWindows judges; key "d" changes
// its limit and is judged only against the oracle.
var checked = map[string]int{"a": 10, "b": 3, "c": 50}

// scriptStart is 900ms into a second, so that a fixed window's edge falls 100ms after the start.
var scriptStart = time.Date(2026, 1, 1, 0, 0, 0, 900_000_000, time.UTC)

// script is deterministic traffic with the shapes that separate limiter designs: steady calls
// faster than the limit starting from idle (a token bucket's full bucket plus refill; a fixed
// window's edge), bursts landing on the same instant and exactly one second apart, and seeded
// random traffic over several keys including a limit that changes between calls.
func script() []call {
	var cs []call
	var at time.Duration
	for range 300 { // 3s, one call every 10ms
		cs = append(cs, call{at, "a", 10})
		at += 10 * time.Millisecond
	}
	at += 2 * time.Second
	for _, gap := range []time.Duration{time.Second, 999 * time.Millisecond, time.Second + 1} {
		for range 25 {
			cs = append(cs, call{at, "a", 10}, call{at, "c", 50})
		}
		at += gap
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 { // about 4s
		at += time.Duration(r.IntN(2700)) * time.Microsecond
		switch k := r.IntN(4); k {
		case 3:
			cs = append(cs, call{at, "d", []int{1, 4, 12}[r.IntN(3)]})
		default:
			key := []string{"a", "b", "c"}[k]
			cs = append(cs, call{at, key, checked[key]})
		}
	}
	return cs
}

// run drives l with the script on a fake clock and returns every decision and the admission
// times of each key.
func run(t *testing.T, newLimiter func(now func() time.Time) camsd.Limiter) ([]camsd.Decision, map[string][]time.Time) {
	t.Helper()
	c := &clock{}
	l := newLimiter(c.Now)
	var ds []camsd.Decision
	admitted := make(map[string][]time.Time)
	for _, s := range script() {
		c.Set(scriptStart.Add(s.at))
		d := allow(t, l, s.key, s.limit)
		ds = append(ds, d)
		if d.Allowed {
			admitted[s.key] = append(admitted[s.key], d.At)
		}
	}
	return ds, admitted
}

func TestLimiter_script(t *testing.T) {
	got, admitted := run(t, func(now func() time.Time) camsd.Limiter { return &ratelimit.Limiter{Now: now} })

	t.Run("no window over the limit", func(t *testing.T) {
		for key, limit := range checked {
			if err := checkWindows(admitted[key], limit); err != nil {
				t.Errorf("key %s: %v", key, err)
			}
		}
	})

	// The checker alone would pass a limiter that refuses everything; the oracle pins every
	// decision, so the Limiter admits exactly what the rule admits and no less.
	t.Run("every decision is the oracle's", func(t *testing.T) {
		want, _ := run(t, func(now func() time.Time) camsd.Limiter { return newOracle(now) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("decisions (-oracle +Limiter):\n%s", diff)
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
}

// The same script must expose the designs the rule forbids; if it did not, the passing test
// above would prove nothing about them.
func TestControls_script(t *testing.T) {
	for name, newLimiter := range map[string]func(now func() time.Time) camsd.Limiter{
		"fixed window": func(now func() time.Time) camsd.Limiter {
			return newFixedWindow(now, scriptStart.Truncate(time.Second))
		},
		"token bucket": func(now func() time.Time) camsd.Limiter { return newTokenBucket(now) },
	} {
		t.Run(name, func(t *testing.T) {
			_, admitted := run(t, newLimiter)
			err := checkWindows(admitted["a"], checked["a"])
			if err == nil {
				t.Fatal("checker passed the control; it would not catch this design")
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}

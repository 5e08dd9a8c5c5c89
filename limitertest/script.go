package limitertest

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// call is one scripted call: at an offset from the script's start, for a key and limit.
type call struct {
	at    time.Duration
	key   string
	limit int
}

// checked are the script's keys with a fixed limit, which CheckWindows judges; key "d" changes
// its limit and is judged only against the oracle.
var checked = map[string]int{"a": 10, "b": 3, "c": 50}

// scriptStart is 900ms into a second, so that a fixed window's edge falls 100ms after the start.
// Every time in the script is a whole number of microseconds, the finest clock a limiter needs.
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
	for _, gap := range []time.Duration{time.Second, 999 * time.Millisecond, time.Second + time.Microsecond} {
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

// runScript drives a limiter made on a fake clock with the script and returns every decision
// and the admission times of each key.
func runScript(t *testing.T, newLimiter func(t *testing.T, now func() time.Time) camsd.Limiter) ([]camsd.Decision, map[string][]time.Time) {
	t.Helper()
	c := &clock{}
	l := newLimiter(t, c.Now)
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

// allow calls l and fails the test on error.
func allow(t *testing.T, l camsd.Limiter, key string, limit int) camsd.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("Allow(%q, %d): %v", key, limit, err)
	}
	return d
}

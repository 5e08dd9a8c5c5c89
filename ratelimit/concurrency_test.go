package ratelimit_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ratelimit"
)

// load is goroutines calling Allow for one key as fast as they can.
type load struct {
	key        string
	limit      int
	goroutines int
}

// hammer runs the loads against l on the real clock for about d and returns the sorted
// Decision.At of every admission per key, and how long the calls ran.
func hammer(t *testing.T, l camsd.Limiter, loads []load, d time.Duration) (map[string][]time.Time, time.Duration) {
	t.Helper()
	var (
		stop, failed atomic.Bool
		ready, done  sync.WaitGroup
		mu           sync.Mutex
		start        = make(chan struct{})
		admitted     = make(map[string][]time.Time)
	)
	for _, ld := range loads {
		for range ld.goroutines {
			ready.Add(1)
			done.Go(func() {
				var mine []time.Time
				ready.Done()
				<-start
				for !stop.Load() {
					dec, err := l.Allow(context.Background(), ld.key, ld.limit)
					if err != nil {
						failed.Store(true)
						return
					}
					if dec.Allowed {
						mine = append(mine, dec.At)
					}
				}
				mu.Lock()
				admitted[ld.key] = append(admitted[ld.key], mine...)
				mu.Unlock()
			})
		}
	}
	ready.Wait()
	began := time.Now()
	time.AfterFunc(d, func() { stop.Store(true) })
	close(start)
	done.Wait()
	elapsed := time.Since(began)
	if failed.Load() {
		t.Fatal("Allow returned an error")
	}
	for _, ts := range admitted {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	return admitted, elapsed
}

func TestLimiter_concurrent(t *testing.T) {
	d := 2500 * time.Millisecond
	if testing.Short() {
		d = 1200 * time.Millisecond
	}
	// 256 goroutines: half on one hot key, the rest spread over keys with other limits.
	loads := []load{
		{"hot", 10, 128},
		{"a", 1, 32},
		{"b", 3, 32},
		{"c", 50, 32},
		{"d", 200, 32},
	}
	admitted, elapsed := hammer(t, ratelimit.New(), loads, d)
	secs := elapsed.Seconds()
	for _, ld := range loads {
		ts := admitted[ld.key]
		if err := checkWindows(ts, ld.limit); err != nil {
			t.Errorf("key %s: %v", ld.key, err)
		}
		// Saturated, an exact window admits limit at once each second: between limit*T-limit
		// and limit*T+limit in T seconds. Fewer means the limiter refuses what it may admit.
		lo, hi := float64(ld.limit)*(secs-1), float64(ld.limit)*(secs+1)
		if n := float64(len(ts)); n < lo || n > hi {
			t.Errorf("key %s: %v admitted in %.2fs, want within [%.0f, %.0f]", ld.key, n, secs, lo, hi)
		}
		t.Logf("key %s limit %d: %d admitted in %.2fs", ld.key, ld.limit, len(ts), secs)
	}
}

// The controls under the same hammering must fail the checker, or the test above could not
// tell an exact window from the designs it replaces.
func TestControls_concurrent(t *testing.T) {
	loads := []load{{"hot", 10, 256}}
	for name, newLimiter := range map[string]func() camsd.Limiter{
		// Window edges half a second after the start: the first window fills at once and
		// the next fills at its edge.
		"fixed window": func() camsd.Limiter { return newFixedWindow(time.Now, time.Now().Add(500*time.Millisecond)) },
		"token bucket": func() camsd.Limiter { return newTokenBucket(time.Now) },
	} {
		t.Run(name, func(t *testing.T) {
			admitted, _ := hammer(t, newLimiter(), loads, 1100*time.Millisecond)
			err := checkWindows(admitted["hot"], 10)
			if err == nil {
				t.Fatal("checker passed the control; it would not catch this design")
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}

package limitertest

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// Load is goroutines calling Allow for one key as fast as they can.
type Load struct {
	Key        string
	Limit      int
	Goroutines int
}

// maxCalls bounds each hammering goroutine's calls, whatever the clock does.
const maxCalls = 10_000_000

// Hammer runs the loads against l on the real clock for about d and returns the sorted
// Decision.At of every admission per key, and how long the calls ran. Any error from Allow
// fails the test.
func Hammer(t testing.TB, l camsd.Limiter, loads []Load, d time.Duration) (map[string][]time.Time, time.Duration) {
	t.Helper()
	var (
		stop        atomic.Bool
		ready, done sync.WaitGroup
		mu          sync.Mutex
		firstErr    error
		start       = make(chan struct{})
		admitted    = make(map[string][]time.Time)
	)
	for _, ld := range loads {
		for range ld.Goroutines {
			ready.Add(1)
			done.Go(func() {
				var mine []time.Time
				var err error
				ready.Done()
				<-start
				for i := 0; i < maxCalls && !stop.Load(); i++ {
					var dec camsd.Decision
					if dec, err = l.Allow(context.Background(), ld.Key, ld.Limit); err != nil {
						stop.Store(true)
						break
					}
					if dec.Allowed {
						mine = append(mine, dec.At)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				admitted[ld.Key] = append(admitted[ld.Key], mine...)
				if err != nil && firstErr == nil {
					firstErr = err
				}
			})
		}
	}
	ready.Wait()
	began := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	close(start)
	done.Wait()
	elapsed := time.Since(began)
	if firstErr != nil {
		t.Fatalf("Allow: %v", firstErr)
	}
	for _, ts := range admitted {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	return admitted, elapsed
}

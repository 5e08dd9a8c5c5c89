package ratelimit_test

import (
	"testing"
	"time"

	"github.com/camsd/camsd/limitertest"
	"github.com/camsd/camsd/ratelimit"
)

// TestLimiter_concurrent is limitertest's concurrent case at four times its goroutines: the
// in-process limiter's locks and clamp are what is under test here.
func TestLimiter_concurrent(t *testing.T) {
	d := 2500 * time.Millisecond
	if testing.Short() {
		d = 1200 * time.Millisecond
	}
	// 256 goroutines: half on one hot key, the rest spread over keys with other limits.
	loads := []limitertest.Load{
		{Key: "hot", Limit: 10, Goroutines: 128},
		{Key: "a", Limit: 1, Goroutines: 32},
		{Key: "b", Limit: 3, Goroutines: 32},
		{Key: "c", Limit: 50, Goroutines: 32},
		{Key: "d", Limit: 200, Goroutines: 32},
	}
	admitted, elapsed := limitertest.Hammer(t, ratelimit.New(), loads, d)
	for _, ld := range loads {
		ts := admitted[ld.Key]
		if err := limitertest.CheckWindows(ts, ld.Limit); err != nil {
			t.Errorf("key %s: %v", ld.Key, err)
		}
		if err := limitertest.CheckSaturated(ts, ld.Limit, d, elapsed); err != nil {
			t.Errorf("key %s: %v", ld.Key, err)
		}
		t.Logf("key %s limit %d: %d admitted in %.2fs", ld.Key, ld.Limit, len(ts), elapsed.Seconds())
	}
}

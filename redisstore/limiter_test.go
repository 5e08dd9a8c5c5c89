package redisstore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/limitertest"
	"github.com/camsd/camsd/redisstore"
)

func TestLimiter(t *testing.T) {
	limitertest.Run(t, func(t *testing.T) camsd.Limiter {
		return redisstore.NewLimiter(open(t, contractTimeout), prefix(t))
	})
}

// Three replicas, each with its own connections to one Redis, take turns: the contract holds
// across them as it does for one.
func TestLimiter_replicas(t *testing.T) {
	limitertest.Run(t, func(t *testing.T) camsd.Limiter {
		p := prefix(t)
		rr := &roundRobin{}
		for range 3 {
			rr.replicas = append(rr.replicas, redisstore.NewLimiter(open(t, contractTimeout), p))
		}
		return rr
	})
}

// The exact decisions, on the real script, with the time it decides at set by the test.
func TestLimiter_clock(t *testing.T) {
	limitertest.RunWithClock(t, func(t *testing.T, now func() time.Time) camsd.Limiter {
		l := redisstore.NewLimiter(open(t, contractTimeout), prefix(t))
		redisstore.SetLimiterClock(l, now)
		return l
	})
}

func TestLimiter_Allow(t *testing.T) {
	t.Run("calls in one microsecond are all counted", func(t *testing.T) {
		c, p := open(t, contractTimeout), prefix(t)
		l := redisstore.NewLimiter(c, p)
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		redisstore.SetLimiterClock(l, func() time.Time { return at })
		n := 0
		for range 300 {
			d, err := l.Allow(t.Context(), "acct", 200)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				n++
			}
		}
		if n != 200 {
			t.Errorf("%d of 300 calls admitted in one microsecond, limit 200", n)
		}
		if got := rawClient(t).ZCard(t.Context(), p+"rate:acct").Val(); got != 200 {
			t.Errorf("the key holds %d admissions, want 200: two shared a member", got)
		}
	})

	t.Run("a key lives a second after its newest admission, and no longer", func(t *testing.T) {
		c, p := open(t, contractTimeout), prefix(t)
		l, rdb, key := redisstore.NewLimiter(c, p), rawClient(t), p+"rate:acct"
		for range 3 { // the third refused
			if _, err := l.Allow(t.Context(), "acct", 2); err != nil {
				t.Fatal(err)
			}
		}
		ttl := rdb.PTTL(t.Context(), key).Val()
		if ttl <= 900*time.Millisecond || ttl > 1010*time.Millisecond {
			t.Errorf("PTTL = %v, want a little over a second", ttl)
		}
		time.Sleep(1100 * time.Millisecond)
		if n := rdb.Exists(t.Context(), key).Val(); n != 0 {
			t.Errorf("the key still exists %v after its last admission", 1100*time.Millisecond)
		}
	})

	t.Run("Decision.At is Redis's time", func(t *testing.T) {
		l := redisstore.NewLimiter(open(t, contractTimeout), prefix(t))
		tm, err := rawClient(t).Time(t.Context()).Result()
		if err != nil {
			t.Fatal(err)
		}
		d, err := l.Allow(t.Context(), "acct", 1)
		if err != nil {
			t.Fatal(err)
		}
		if d.At.Before(tm.Truncate(time.Microsecond)) || d.At.Sub(tm) > time.Second {
			t.Errorf("At = %v, Redis said %v just before", d.At, tm)
		}
	})
}

// roundRobin sends each call to the next replica.
type roundRobin struct {
	replicas []camsd.Limiter
	next     atomic.Uint64
}

func (r *roundRobin) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	i := r.next.Add(1) % uint64(len(r.replicas))
	return r.replicas[i].Allow(ctx, key, limit)
}

package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/limitertest"
	"github.com/camsd/camsd/postgres"
	"github.com/jackc/pgx/v5"
)

func TestLimiter(t *testing.T) {
	needPostgres(t)
	limitertest.Run(t, func(t *testing.T) camsd.Limiter {
		return postgres.NewLimiter(openFresh(t, postgres.Options{}))
	})
}

func TestLimiter_clock(t *testing.T) {
	needPostgres(t)
	limitertest.RunWithClock(t, func(t *testing.T, now func() time.Time) camsd.Limiter {
		l := postgres.NewLimiter(openFresh(t, postgres.Options{}))
		postgres.SetLimiterClock(l, now)
		return l
	})
}

// roundRobin sends each call to the next of several limiters: replicas behind a load
// balancer.
type roundRobin struct {
	ls   []camsd.Limiter
	next atomic.Uint64
}

func (r *roundRobin) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	return r.ls[r.next.Add(1)%uint64(len(r.ls))].Allow(ctx, key, limit)
}

// threeReplicas returns a limiter that spreads calls over three DBs, each with its own pool, on
// one fresh schema.
func threeReplicas(t *testing.T) camsd.Limiter {
	schema := freshSchema(t)
	r := &roundRobin{}
	for range 3 {
		r.ls = append(r.ls, postgres.NewLimiter(open(t, schema, postgres.Options{})))
	}
	return r
}

func TestLimiter_replicas(t *testing.T) {
	needPostgres(t)
	// The whole contract, each call going to the next of three replicas.
	limitertest.Run(t, threeReplicas)
}

func TestLimiter_replicasHammered(t *testing.T) {
	// Three replicas, each hammered by its own callers, on shared keys: no rolling second,
	// judged by the decisions' own times, over the limit; and close to the ideal.
	schema := freshSchema(t)
	var ls []camsd.Limiter
	for range 3 {
		ls = append(ls, postgres.NewLimiter(open(t, schema, postgres.Options{})))
	}
	loads := []limitertest.Load{{Key: "hot", Limit: 10, Goroutines: 8}, {Key: "wide", Limit: 100, Goroutines: 4}}
	d := 2 * time.Second
	if testing.Short() {
		d = 1200 * time.Millisecond
	}
	type result struct {
		admitted map[string][]time.Time
		elapsed  time.Duration
	}
	results := make(chan result, len(ls))
	for _, l := range ls {
		go func() {
			admitted, elapsed := limitertest.Hammer(t, l, loads, d)
			results <- result{admitted, elapsed}
		}()
	}
	all := map[string][]time.Time{}
	var elapsed time.Duration
	for range ls {
		r := <-results
		for k, ts := range r.admitted {
			all[k] = append(all[k], ts...)
		}
		elapsed = max(elapsed, r.elapsed)
	}
	for _, ld := range loads {
		ts := all[ld.Key]
		sortTimes(ts)
		if err := limitertest.CheckWindows(ts, ld.Limit); err != nil {
			t.Errorf("key %s: %v", ld.Key, err)
		}
		// The replicas start within a few milliseconds of each other, so the run is judged
		// on the window of the earliest start and the latest end.
		if err := limitertest.CheckSaturated(ts, ld.Limit, d, elapsed+50*time.Millisecond); err != nil {
			t.Errorf("key %s: %v", ld.Key, err)
		}
		t.Logf("key %s limit %d: %d admitted over 3 replicas in %.2fs", ld.Key, ld.Limit, len(ts), elapsed.Seconds())
	}
}

func TestLimiter_sweepsIdleKeys(t *testing.T) {
	schema := freshSchema(t)
	l := postgres.NewLimiter(open(t, schema, postgres.Options{}))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	postgres.SetLimiterClock(l, func() time.Time { return now })
	for _, key := range []string{"idle-1", "idle-2"} {
		if d, err := l.Allow(t.Context(), key, 1); err != nil || !d.Allowed {
			t.Fatalf("Allow(%s) = %+v, %v", key, d, err)
		}
	}
	now = now.Add(2 * time.Second)
	for i := range 1024 { // a sweep is due within 1024 calls
		if _, err := l.Allow(t.Context(), "busy", 1_000_000); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		now = now.Add(time.Microsecond)
	}
	rows, _ := admin(t).Query(t.Context(), `SELECT key FROM `+pgx.Identifier{schema, "limiter_windows"}.Sanitize())
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "busy" {
		t.Errorf("keys left = %q; want only busy", keys)
	}
}

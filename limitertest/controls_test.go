package limitertest

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/camsd/camsd"
)

// Two designs the product rule forbids, written here so that the checker can be run against
// them: it must reject them on the same traffic an exact limiter passes.
var (
	_ camsd.Limiter = (*fixedWindow)(nil)
	_ camsd.Limiter = (*tokenBucket)(nil)
)

// fixedWindow counts calls per whole second counted from origin (envoyproxy/ratelimit's
// design). It admits up to 2*limit across a window edge.
type fixedWindow struct {
	Now    func() time.Time
	origin time.Time

	mu   sync.Mutex
	keys map[string]*fixedCount
}

type fixedCount struct {
	window int64
	n      int
}

func newFixedWindow(now func() time.Time, origin time.Time) *fixedWindow {
	return &fixedWindow{Now: now, origin: origin, keys: make(map[string]*fixedCount)}
}

func (f *fixedWindow) Allow(_ context.Context, key string, limit int) (camsd.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.Now()
	w := int64(math.Floor(float64(t.Sub(f.origin)) / float64(time.Second)))
	c := f.keys[key]
	if c == nil || c.window != w {
		c = &fixedCount{window: w}
		f.keys[key] = c
	}
	if c.n >= limit {
		return camsd.Decision{At: t, RetryAfter: f.origin.Add(time.Duration(w+1) * time.Second).Sub(t)}, nil
	}
	c.n++
	return camsd.Decision{Allowed: true, At: t}, nil
}

// tokenBucket refills limit tokens per second into a bucket of limit (x/time/rate with
// burst = limit). A full bucket plus a second of refill admits 2*limit-1 in one second.
type tokenBucket struct {
	Now func() time.Time

	mu   sync.Mutex
	keys map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newTokenBucket(now func() time.Time) *tokenBucket {
	return &tokenBucket{Now: now, keys: make(map[string]*bucket)}
}

func (b *tokenBucket) Allow(_ context.Context, key string, limit int) (camsd.Decision, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.Now()
	k := b.keys[key]
	if k == nil {
		k = &bucket{tokens: float64(limit), last: t}
		b.keys[key] = k
	}
	k.tokens = min(float64(limit), k.tokens+t.Sub(k.last).Seconds()*float64(limit))
	k.last = t
	if k.tokens < 1 {
		wait := time.Duration((1 - k.tokens) / float64(limit) * float64(time.Second))
		return camsd.Decision{At: t, RetryAfter: max(wait, 1)}, nil
	}
	k.tokens--
	return camsd.Decision{Allowed: true, At: t}, nil
}

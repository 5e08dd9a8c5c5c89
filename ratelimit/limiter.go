package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/camsd/camsd"
)

var _ camsd.Limiter = (*Limiter)(nil)

// shardCount spreads keys over independent locks so that accounts do not contend on one mutex.
const shardCount = 64

// Limiter admits at most limit calls per key in any rolling second; see the package comment.
// The zero value is ready to use. It starts no goroutine: idle keys are dropped by a sweep
// that calls pay for, at most once per second of clock time per shard.
type Limiter struct {
	// Now is the clock; nil means time.Now. It is read once per call, under the key's shard
	// lock, so that the admissions of a key are ordered in time.
	Now func() time.Time

	shards [shardCount]shard
}

// New returns a Limiter on the real clock.
func New() *Limiter { return &Limiter{} }

// Allow decides one call for key. It never blocks, so ctx is not consulted. Decision.At is the
// time the decision used: the clock reading, or the latest earlier reading when the clock has
// gone back. Decision.RetryAfter, when refused, is how long until the window has room. It returns an error only when limit is not positive, which is a wiring bug
// (an account's 0 QPS means "the server default" and must be resolved by the caller).
func (l *Limiter) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	if limit <= 0 {
		return camsd.Decision{}, fmt.Errorf("ratelimit: limit %d for key %q is not positive", limit, key)
	}
	s := &l.shards[shardOf(key)]
	s.mu.Lock()
	defer s.mu.Unlock()

	t, at := s.read(l.now)
	s.sweep(t)
	w := s.keys[key]
	if w == nil {
		w = new(window)
		s.add(key, w)
	}
	if wait := w.allow(t, limit); wait > 0 {
		return camsd.Decision{RetryAfter: wait, At: at}, nil
	}
	return camsd.Decision{Allowed: true, At: at}, nil
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// shardOf hashes key with FNV-1a. A fixed hash keeps the zero Limiter usable; the spread only
// affects contention, never correctness, and each shard's map has its own random seed.
func shardOf(key string) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % shardCount)
}

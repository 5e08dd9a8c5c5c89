package ratelimit

import (
	"sync"
	"time"
)

// shard is a lock and the windows of the keys that hash to it.
type shard struct {
	mu   sync.Mutex
	keys map[string]*window
	peak int // most keys held since the map was last rebuilt

	// Times are kept as offsets from base, the shard's first reading. Sub uses the monotonic
	// reading when the clock has one, so wall-clock steps do not move the window.
	started bool
	base    time.Time
	high    time.Duration // latest reading: the shard's clock never runs backwards
	swept   time.Duration // when the last sweep ran

	_ [64]byte // keep neighbouring shards' locks off one cache line
}

// read takes the clock and returns the offset to decide at and the time to report as
// Decision.At. A reading earlier than one already seen (a wall clock stepped back, or a clock
// read outside the lock as in golang/go#71360 and #65508) is clamped to the latest one: deciding
// in the past could admit a call that, in real time, puts more than limit in the window.
// Clamping per shard rather than per key also keeps the sweep safe, because a key it dropped as
// idle at t can never be asked about at a time before t.
func (s *shard) read(now func() time.Time) (time.Duration, time.Time) {
	r := now()
	if !s.started {
		s.started, s.base, s.keys = true, r, make(map[string]*window)
		return 0, r
	}
	t := r.Sub(s.base)
	if t < s.high {
		return s.high, s.base.Add(s.high)
	}
	s.high = t
	return t, r
}

func (s *shard) add(key string, w *window) {
	s.keys[key] = w
	s.peak = max(s.peak, len(s.keys))
}

// sweep forgets keys with no admission in the last second, at most once per second of clock
// time, so memory follows the keys in use and not every key ever seen. A forgotten key loses
// nothing: its admissions can no longer count.
func (s *shard) sweep(t time.Duration) {
	if t-s.swept < time.Second {
		return
	}
	s.swept = t
	for k, w := range s.keys {
		if w.idle(t) {
			delete(s.keys, k)
		}
	}
	// Go maps never shrink; rebuild one that once held many more keys than it holds now.
	if s.peak >= 1024 && len(s.keys) <= s.peak/4 {
		m := make(map[string]*window, len(s.keys))
		for k, w := range s.keys {
			m[k] = w
		}
		s.keys = m
		s.peak = len(m)
	}
}

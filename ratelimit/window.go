package ratelimit

import "time"

// window holds one key's admissions that may still be inside a rolling second, oldest first,
// as offsets from its shard's base reading. It keeps only what can still matter: an admission
// at or before t-1s can never count again, because a shard's clock never runs backwards.
//
// It is a growable ring rather than a fixed ring of limit slots so that memory follows use (a
// key allowed 10 000 QPS that calls once a second holds one slot), and so that a change of limit
// between calls (a per-account override) needs no copying: the window holds every admission
// in the last second whatever the limit was, and the new limit is applied to that count.
type window struct {
	ring []time.Duration
	head int // index of the oldest admission
	n    int // number of admissions held
}

// allow decides a call at offset t with the given limit and records it if admitted. It returns
// 0 when admitted and otherwise how long until the call would be admitted (always > 0).
func (w *window) allow(t time.Duration, limit int) time.Duration {
	w.expire(t)
	if w.n < limit {
		w.push(t)
		return 0
	}
	// Admission needs n-limit+1 admissions to leave the window; the (n-limit)th oldest is
	// the last of them. n > limit only right after the limit was lowered.
	return w.at(w.n-limit) + time.Second - t
}

// expire drops admissions that have left the window (t-1s, t].
func (w *window) expire(t time.Duration) {
	for w.n > 0 && t-w.ring[w.head] >= time.Second {
		w.head = (w.head + 1) % len(w.ring)
		w.n--
	}
}

// idle reports whether no admission remains in the window at t, so the key may be forgotten.
func (w *window) idle(t time.Duration) bool {
	return w.n == 0 || t-w.at(w.n-1) >= time.Second
}

// at returns the i-th oldest admission held.
func (w *window) at(i int) time.Duration { return w.ring[(w.head+i)%len(w.ring)] }

func (w *window) push(t time.Duration) {
	if w.n == len(w.ring) {
		w.grow()
	}
	w.ring[(w.head+w.n)%len(w.ring)] = t
	w.n++
}

// grow doubles the ring, unwrapping it so the oldest admission is at index 0.
func (w *window) grow() {
	ring := make([]time.Duration, max(4, 2*len(w.ring)))
	for i := range w.n {
		ring[i] = w.at(i)
	}
	w.ring, w.head = ring, 0
}

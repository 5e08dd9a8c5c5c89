package camsd

import (
	"errors"
	"slices"
	"sync"
)

// A Queue holds what waits for a store's writer (a write, a flow-control decision, a read),
// oldest first. Callers Put and never wait for the writer; the writer Takes everything queued,
// up to the room its next group has, whenever it is free, so that what concurrent calls queued
// meanwhile shares that group. Both stores group so: SQLite's one writer takes its ops from a
// Queue, PostgreSQL's group writers their writes, and its batches of flow-control decisions and
// number reads theirs. A Queue is safe for concurrent use.
type Queue[T comparable] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	ready  chan struct{} // holds a token when items may have been put since the last Take; closed by Close
}

// ErrQueueClosed is Put's error once the Queue is closed.
var ErrQueueClosed = errors.New("queue closed")

// NewQueue returns an empty, open Queue.
func NewQueue[T comparable]() *Queue[T] {
	return &Queue[T]{ready: make(chan struct{}, 1)}
}

// Put queues x behind everything queued before it, unless the Queue is closed.
func (q *Queue[T]) Put(x T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrQueueClosed
	}
	q.items = append(q.items, x)
	q.nudge()
	return nil
}

// Ready yields a token when something may have been put since the last Take, or Nudge was
// called; once the Queue is closed it is always ready. A writer waits on it when it found the
// Queue empty, then Takes again: one token may stand for several Puts, and a Take may find
// that another writer took them.
func (q *Queue[T]) Ready() <-chan struct{} { return q.ready }

// Nudge makes Ready ready, for a writer that has something other than the Queue to look at
// (an application of SQLite's journal that ended, say).
func (q *Queue[T]) Nudge() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.nudge()
	}
}

// nudge leaves a token in ready, if there is none. q.mu is held and q is open.
func (q *Queue[T]) nudge() {
	select {
	case q.ready <- struct{}{}:
	default: // one is there already
	}
}

// Take moves the oldest queued items to the end of batch until batch holds max (all of them
// if max is not positive), and reports whether the Queue is closed: then nothing more will
// be put, and a writer that took nothing is done.
func (q *Queue[T]) Take(batch []T, max int) ([]T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items)
	if max > 0 {
		n = min(n, max-len(batch))
	}
	if n <= 0 {
		return batch, q.closed
	}
	batch = append(batch, q.items[:n]...)
	rest := copy(q.items, q.items[n:])
	clear(q.items[rest:])
	q.items = q.items[:rest]
	return batch, q.closed
}

// Withdraw removes x from the Queue and reports whether it was still there, not taken yet: a
// caller that gave up before the writer took its write is then sure it is never made.
func (q *Queue[T]) Withdraw(x T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := slices.Index(q.items, x)
	if i < 0 {
		return false
	}
	q.items = slices.Delete(q.items, i, i+1)
	return true
}

// Len returns how many items are queued.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// Close stops Puts. What is queued stays for Take, and Ready is ready from now on, so that
// every writer waiting on it wakes, takes what is left and sees the Queue closed.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ready)
	}
}

// Closed reports whether Close was called.
func (q *Queue[T]) Closed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

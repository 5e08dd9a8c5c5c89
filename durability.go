package camsd

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Call is one API call's handle on the stores, passed explicitly to each write the call makes.
// A nil *Call is a write on its own: it is durable when its method returns.
//
// With a Call, the writes of concurrent calls may share group commits: a store may return as
// soon as a write's outcome is decided (a compare-and-set won or lost, a row queued behind the
// writes before it) and register the wait for its commit with Defer; the call then waits once,
// with Wait, before it replies. Either way nothing is acknowledged before it is durable. A
// Provider or Upstream that reaches outside the process must Wait first, so that the record of
// an attempt is durable before the attempt.
//
// A Call is used by one goroutine at a time, the request's.
type Call struct {
	// Nonce, when not nil, is the call's signature nonce while it is recorded only where it
	// may be forgotten (Redis). A store that can records it with the call's first change of
	// state (SaveCode, ChangeNumber) in the same transaction, refusing the change with
	// ErrNonceUsed if it was recorded already, and then clears it (TakeNonce).
	Nonce *CallNonce

	// Admission, when not nil, is the call's flow-control decision to make with its nonce, in
	// the same round trip, by a NonceStore that can (Redis: one script for both); one that
	// made it sets Decided and Decision, and flow control then takes that decision as its own.
	Admission *Admission

	mu    sync.Mutex
	waits []func() error
	// running counts the call while it runs (Running.Track), until End; counted says whether
	// it counts now (not while it waits for a commit).
	running *Running
	counted bool
}

// Running counts the calls running towards a store's writers: a call counts from Track until
// it ends (Call.End), except while it waits for a commit of its own or for the platform
// (Call.Blocked, Call.Wait). A writer that holds a few writes
// may then wait a moment for the writes of the calls still running, instead of making a group
// without them: the cost of a group is mostly fixed, so fewer, larger groups cost less CPU
// per call. Calls that never write (refused, reads) count too while they run: the writer's
// wait is bounded.
type Running struct {
	n       atomic.Int64
	mu      sync.Mutex
	stopped chan struct{} // Stopped's, closed when a call next stops counting; nil: none asked
}

// Stopped returns a channel closed once a call stops counting (it ends, or waits), so that a
// writer waiting for the running calls looks again. Take it before reading Count.
func (r *Running) Stopped() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped == nil {
		r.stopped = make(chan struct{})
	}
	return r.stopped
}

// Track counts call as running, until call.End. A nil *Call is not counted.
func (r *Running) Track(call *Call) {
	if call == nil {
		return
	}
	call.mu.Lock()
	defer call.mu.Unlock()
	if call.running != nil {
		return
	}
	call.running, call.counted = r, true
	r.n.Add(1)
}

// Count returns how many calls run now.
func (r *Running) Count() int64 { return r.n.Load() }

// count makes c count as running, or not; c.mu is held.
func (c *Call) count(on bool) {
	if c.running == nil || c.counted == on {
		return
	}
	c.counted = on
	if on {
		c.running.n.Add(1)
		return
	}
	r := c.running
	r.n.Add(-1)
	r.mu.Lock()
	if r.stopped != nil {
		close(r.stopped)
		r.stopped = nil
	}
	r.mu.Unlock()
}

// Blocked says the call waits, for a commit of its own (its write is queued) or for something
// outside the process (the platform): it does not count as running until Unblocked. On a nil
// *Call, or one not tracked, it does nothing.
func (c *Call) Blocked() { c.setRunning(false, false) }

// Unblocked says the call runs again after Blocked.
func (c *Call) Unblocked() { c.setRunning(true, false) }

// End says the call has ended (it is about to reply): it no longer counts as running.
func (c *Call) End() { c.setRunning(false, true) }

// setRunning makes c count as running, or not; with end, for good.
func (c *Call) setRunning(on, end bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count(on)
	if end {
		c.running = nil
	}
}

// Admission is a flow-control decision to make (Key and Limit as Limiter.Allow takes them)
// and, once Decided, the Decision.
type Admission struct {
	Key      string
	Limit    int
	Decided  bool
	Decision Decision
}

// CallNonce is a signature nonce to record: the AccessKey's, until Expires.
type CallNonce struct {
	AccessKeyID, Nonce string
	Expires            time.Time
	Now                time.Time // the replica's clock when the nonce was checked
}

// TakeNonce returns the nonce still to record, or nil, and clears it: the caller records it.
// A nil *Call has none.
func (c *Call) TakeNonce() *CallNonce {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.Nonce
	c.Nonce = nil
	return n
}

// Defer registers wait, which blocks until one write is durable and returns its error. On a
// nil *Call it waits at once.
func (c *Call) Defer(wait func() error) error {
	if c == nil {
		return wait()
	}
	c.mu.Lock()
	c.waits = append(c.waits, wait)
	c.mu.Unlock()
	return nil
}

// Wait blocks until every write registered so far is durable and returns their errors; while
// it waits, the call does not count as running (Running). A nil *Call's returns nil at once.
func (c *Call) Wait() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	waits := c.waits
	c.waits = nil
	if len(waits) > 0 {
		c.count(false)
	}
	c.mu.Unlock()
	if len(waits) == 0 {
		return nil
	}
	defer c.Unblocked()
	var errs []error
	for _, w := range waits {
		errs = append(errs, w())
	}
	return errors.Join(errs...)
}

// A Commit is the end of the group one queued write was made in: the write's outcome (nil:
// the write is durable), known once Done is closed. Both stores queue their writes and have a
// writer make them in groups; the writer ends the Commit of each write it took, and the
// write's caller waits on it at once (Wait) or leaves the wait to its call (Call.Await).
type Commit struct {
	done chan struct{}
	err  error
}

// NewCommit returns a Commit that has not ended.
func NewCommit() *Commit { return &Commit{done: make(chan struct{})} }

// End ends c with the write's outcome. It is called once, by the writer.
func (c *Commit) End(err error) {
	c.err = err
	close(c.done)
}

// Done is closed once c has ended.
func (c *Commit) Done() <-chan struct{} { return c.done }

// Wait returns c's outcome once c has ended, or ctx's error if ctx ends first (the write is
// still made: a queued write is the writer's).
func (c *Commit) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Await leaves the wait for commit to the call: the call's Wait returns commit's outcome,
// through wrap if wrap is not nil. On a nil *Call it waits at once and returns the outcome.
func (c *Call) Await(commit *Commit, wrap func(error) error) error {
	return c.Defer(func() error {
		err := commit.Wait(context.Background())
		if wrap != nil {
			err = wrap(err)
		}
		return err
	})
}

package camsd

import (
	"context"
	"errors"
	"sync"
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

// Wait blocks until every write registered so far is durable and returns their errors. A nil
// *Call's returns nil at once.
func (c *Call) Wait() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	waits := c.waits
	c.waits = nil
	c.mu.Unlock()
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

package camsd

import (
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

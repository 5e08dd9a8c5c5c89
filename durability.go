package camsd

import (
	"context"
	"errors"
	"sync"
)

// Durability lets the writes made for one request share group commits.
//
// Without it, every Store and NonceStore write is on stable storage when its method returns,
// so a request that writes four times waits for four commits one after the other. With a
// Durability in the context (WithDurability), a store may return as soon as a write's outcome
// is decided (a compare-and-set won or lost, a row queued behind the writes before it) and
// register the wait for its commit here instead; the request then waits once, with Wait,
// before it replies. Either way nothing is acknowledged before it is durable.
//
// A Provider that reaches outside the process must call Wait before it does, so that the
// record of an attempt is durable before the attempt.
type Durability struct {
	mu    sync.Mutex
	waits []func() error
}

type durabilityKey struct{}

// WithDurability returns a context that carries a new Durability.
func WithDurability(ctx context.Context) (context.Context, *Durability) {
	d := &Durability{}
	return context.WithValue(ctx, durabilityKey{}, d), d
}

// DurabilityFrom returns the context's Durability, or nil. A nil *Durability's Wait returns
// nil at once.
func DurabilityFrom(ctx context.Context) *Durability {
	d, _ := ctx.Value(durabilityKey{}).(*Durability)
	return d
}

// Defer registers wait, which blocks until one write is durable and returns its error.
func (d *Durability) Defer(wait func() error) {
	d.mu.Lock()
	d.waits = append(d.waits, wait)
	d.mu.Unlock()
}

// Wait blocks until every write registered so far is durable and returns their errors.
func (d *Durability) Wait() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	waits := d.waits
	d.waits = nil
	d.mu.Unlock()
	var errs []error
	for _, w := range waits {
		errs = append(errs, w())
	}
	return errors.Join(errs...)
}

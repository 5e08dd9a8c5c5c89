package sqlite

import (
	"context"

	"github.com/camsd/camsd"
)

// How the write methods keep the camsd.Durability contract.
//
// Without a Durability in the context, a write returns once its transaction has committed.
// With one, it returns as soon as its caller can act on it and registers the wait for the
// commit with the Durability:
//
//   - Use, SaveCode, SetCodeStatus and AddMessage return once the write is queued. Use and
//     SaveCode decide first, in memory (nonceindex.go, codeindex.go), and return their
//     outcome (ErrNonceUsed, ErrConflict; ErrNotFound for SaveCode, whose number is read
//     first); only a nil outcome has a commit to wait for. SetCodeStatus's ErrNotFound comes
//     from the call when memory knows the number's codes, else from Wait.
//   - A failure to commit comes from Wait. Should the transaction of a winning SaveCode fail
//     (an I/O error, a full disk), a caller told ErrConflict may have lost to a code that was
//     rolled back: it was told to retry later, which is harmless. A SaveCode that was decided
//     against a write that then failed is not made: its Wait returns an error.
//   - ApplySeed and Ping wait for the commit, Durability or not.
//
// Queued writes are taken in the order they were queued, so a request's writes commit in
// the order it made them, and a queued write is always made, whatever its context does
// afterwards. A write is seen by reads once it commits, at the latest when Wait returns.

// write queues o for a method whose caller needs nothing from o before its commit, and
// reports o's errors as what's. undo, if not nil, is called when o fails, before its error
// is returned.
func (db *DB) write(ctx context.Context, what string, o *op, undo func()) error {
	if err := db.w.enqueue(ctx, o); err != nil {
		if undo != nil {
			undo()
		}
		return wrap(what, err)
	}
	return db.queued(ctx, what, o, undo)
}

// queued finishes a write that its method has just queued: with a Durability in ctx it
// registers the wait for o's commit and returns nil; without, it waits for the commit, or
// until ctx ends before the writer takes o, which then is not made. o's errors are reported
// as what's; undo, if not nil, is called when o fails, before its error is returned.
func (db *DB) queued(ctx context.Context, what string, o *op, undo func()) error {
	fail := func(err error) error {
		if err != nil && undo != nil {
			undo()
		}
		return wrap(what, err)
	}
	if d := camsd.DurabilityFrom(ctx); d != nil {
		d.Defer(func() error { return fail(o.wait()) })
		return nil
	}
	if err := db.w.await(ctx, o, o.committed); err != nil {
		return fail(err)
	}
	return fail(o.err)
}

package sqlite

import (
	"context"

	"github.com/camsd/camsd"
)

// How the write methods keep the camsd.Call contract.
//
// Without a Call (nil), a write returns once it is durable.
// With one, it returns as soon as its caller can act on it and registers the wait for the
// commit with the Call:
//
//   - Use, AddMessage and SetCodeStatus return once the write is queued. A failure to commit
//     comes from Wait, and so does SetCodeStatus's ErrNotFound: checking first with a read
//     would not see a code whose SaveCode has not committed yet.
//   - SaveCode returns once its compare-and-set has run in the writer's open group,
//     with its outcome (nil, ErrConflict, ErrNotFound); only a nil outcome has a commit to
//     wait for. Should its group then fail (an I/O error, a full disk), the winner
//     hears it from Wait, and a caller told ErrConflict may have lost to a code that was
//     rolled back: it was told to retry later, which is harmless.
//   - ApplySeed and Ping wait for the commit: they take no Call.
//
// The store records nonces in its journal when Use is called, so it never needs a Call's Nonce
// and leaves it untouched.
//
// Queued writes are taken in the order they were queued, so a request's writes commit in
// the order it made them, and a queued write is always made, whatever its context does
// afterwards. A write is seen by reads at the latest when Wait returns: a journaled one once
// the writer has applied it, which a read of its table asks for (settle, journal.go), any
// other once its transaction commits, a little before the writer's fsync of it.

// write runs o for a method whose caller needs nothing from o before its commit, and reports
// o's errors as what's. undo, if not nil, is called when o fails, before its error is
// returned.
func (db *DB) write(ctx context.Context, call *camsd.Call, what string, o *op, undo func()) error {
	fail := func(err error) error {
		if err != nil && undo != nil {
			undo()
		}
		return wrap(what, err)
	}
	if call == nil {
		return fail(db.w.do(ctx, o))
	}
	o.call = call
	if err := db.w.enqueue(ctx, o); err != nil {
		return fail(err)
	}
	return call.Await(o.commit, fail)
}

// decide runs o for a method whose caller needs o's outcome, and reports o's errors as
// what's.
func (db *DB) decide(ctx context.Context, call *camsd.Call, what string, o *op) error {
	if call == nil {
		return wrap(what, db.w.do(ctx, o))
	}
	o.call = call
	if err := db.w.execute(ctx, o); err != nil {
		return wrap(what, err)
	}
	return call.Await(o.commit, func(err error) error { return wrap(what, err) })
}

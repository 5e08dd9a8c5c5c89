package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/camsd/camsd"
)

const (
	// sweepEvery and sweepBatch pace the cleanup of keys no longer used: every sweepEvery-th
	// Use of a DB also deletes up to sweepBatch nonces of one such key. A key in use prunes
	// its own expired nonces, two with each new one (nonce_use in migrations/0002_nonces.sql).
	sweepEvery = 64
	sweepBatch = 256
)

// sweeper counts calls to pace a cleanup.
type sweeper struct{ calls atomic.Uint64 }

// due reports whether this call is one of every n that cleans up.
func (s *sweeper) due(n uint64) bool { return s.calls.Add(1)%n == 0 }

// Use records nonce for the AccessKey until expires. Returns ErrNonceUsed if it is recorded
// and not yet expired, and ErrNonceStoreFull if the key holds MaxNonces live nonces.
//
// It is a grouped write (group.go): nonce_use, in the group's statement, under the lock of the
// key's row in nonce_keys, which the group takes in the global lock order. So the Uses of one
// key are serial across every replica, concurrent Uses of a nonce accept it exactly once, and
// the key's count of nonces, kept in that row, bounds its live nonces exactly; but the Uses of
// one busy key share commits instead of waiting for each other's. Expiry is judged by
// Options.Now, the replica's clock. It returns once committed.
func (db *DB) Use(ctx context.Context, call *camsd.Call, accessKeyID, nonce string, expires time.Time) error {
	now := db.now()
	w := &write{kind: kindNonce, accessKeyID: accessKeyID, nonce: nonce, expires: toNanos(expires), now: toNanos(now)}
	if err := db.groups.do(ctx, call, w); err != nil {
		return wrap("use nonce", err)
	}
	if db.nonces.due(sweepEvery) {
		// The nonce is recorded whatever becomes of the sweep, and the next one retries.
		db.pool.Exec(ctx, `SELECT nonce_sweep($1, $2)`, toNanos(now), sweepBatch)
	}
	switch w.verdict {
	case "ok":
		return nil
	case "used":
		return camsd.ErrNonceUsed
	case "full":
		return camsd.ErrNonceStoreFull
	}
	return fmt.Errorf("postgres: use nonce: unexpected verdict %q", w.verdict)
}

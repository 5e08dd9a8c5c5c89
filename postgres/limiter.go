package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/camsd/camsd"
)

var _ camsd.Limiter = (*Limiter)(nil)

const (
	// limiterSweepEvery and limiterSweepBatch pace the deletion of idle keys: every
	// limiterSweepEvery-th call of a Limiter also deletes up to limiterSweepBatch keys with no
	// admission in the last second.
	limiterSweepEvery = 1024
	limiterSweepBatch = 100
)

// Limiter is flow control in PostgreSQL, for replicas that share a database and no Redis: at
// most limit calls admitted per key in any rolling second, across every replica, with the
// rule of package ratelimit (see the package comment). It is safe for concurrent use.
type Limiter struct {
	db     *DB
	sweeps sweeper

	now func() time.Time // tests only: the time to decide at instead of PostgreSQL's
}

// NewLimiter returns the Limiter on db's database (and schema).
func NewLimiter(db *DB) *Limiter { return &Limiter{db: db} }

// Allow decides one call for key in one statement, limiter_allow, which locks the key's row,
// reads PostgreSQL's clock_timestamp() and decides on the key's admissions in the last second:
// the decisions of a key are serial and timed by one clock whichever replica makes them.
// Decision.At is that time, to the microsecond; when refused, Decision.RetryAfter is how long
// until the admission that blocks the call leaves the window. It returns an error when limit
// is not positive, which is a wiring bug (an account's 0 QPS means "the server default" and
// must be resolved by the caller), or when the database fails.
func (l *Limiter) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	if limit <= 0 {
		return camsd.Decision{}, fmt.Errorf("postgres: limit %d for key %q is not positive", limit, key)
	}
	var now *time.Time // NULL: PostgreSQL's clock
	if l.now != nil {
		t := l.now()
		now = &t
	}
	var (
		d    camsd.Decision
		edge *time.Time
	)
	err := l.db.pool.QueryRow(ctx, `SELECT allowed, decided_at, edge FROM limiter_allow($1, $2, $3)`,
		key, limit, now).Scan(&d.Allowed, &d.At, &edge)
	if err != nil {
		return camsd.Decision{}, fmt.Errorf("postgres: allow: %w", err)
	}
	if !d.Allowed {
		if edge == nil {
			return camsd.Decision{}, fmt.Errorf("postgres: allow: refused %q without an admission in the window", key)
		}
		d.RetryAfter = edge.Add(time.Second).Sub(d.At)
	}
	if l.sweeps.due(limiterSweepEvery) {
		// The decision stands whatever becomes of the sweep, and the next one retries.
		l.db.pool.Exec(ctx, `SELECT limiter_sweep($1, $2)`, now, limiterSweepBatch)
	}
	return d, nil
}

package postgres

import (
	"context"
	"fmt"
	"math"
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
//
// Concurrent decisions are grouped: one writer takes every decision queued when it is free,
// up to maxGroup, and makes them in one statement, limiter_allow_group, which runs
// limiter_allow for each in the order of their keys. A call waits for its group's round trip,
// not for one of its own.
type Limiter struct {
	db     *DB
	sweeps sweeper

	queue *camsd.Queue[*decision]

	now func() time.Time // tests only: the time to decide at instead of PostgreSQL's
}

// decision is one queued Allow and, once done is closed, its outcome.
type decision struct {
	key   string
	limit int
	d     camsd.Decision
	edge  *time.Time
	err   error
	done  chan struct{}
}

// NewLimiter returns the Limiter on db's database (and schema). Its writer stops when db is
// closed.
func NewLimiter(db *DB) *Limiter {
	l := &Limiter{db: db}
	l.queue = serveBatches(db.groups, 1, l.make)
	return l
}

// Allow decides one call for key in its group's statement; limiter_allow locks the key's row,
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
	q := &decision{key: key, limit: limit, done: make(chan struct{})}
	if err := enqueue(ctx, l.queue, q); err != nil {
		return camsd.Decision{}, err
	}
	select {
	case <-q.done:
	case <-ctx.Done():
		return camsd.Decision{}, ctx.Err()
	}
	if q.err != nil {
		return camsd.Decision{}, fmt.Errorf("postgres: allow: %w", q.err)
	}
	d := q.d
	if !d.Allowed {
		if q.edge == nil {
			return camsd.Decision{}, fmt.Errorf("postgres: allow: refused %q without an admission in the window", key)
		}
		d.RetryAfter = q.edge.Add(time.Second).Sub(d.At)
	}
	if l.sweeps.due(limiterSweepEvery) {
		// The decision stands whatever becomes of the sweep, and the next one retries.
		l.db.pool.Exec(ctx, `SELECT limiter_sweep($1, $2)`, l.clock(), limiterSweepBatch)
	}
	return d, nil
}

// make makes a group of decisions, until the DB is closed.
func (l *Limiter) make(batch []*decision) {
	err := l.decide(batch)
	for _, q := range batch {
		if err != nil {
			q.err = err
		}
		close(q.done)
	}
}

// decide makes batch's decisions in one statement.
func (l *Limiter) decide(batch []*decision) error {
	keys, limits := make([]string, len(batch)), make([]int32, len(batch))
	for i, q := range batch {
		keys[i], limits[i] = q.key, int32(min(q.limit, math.MaxInt32))
	}
	now := l.clock()
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	rows, err := l.db.pool.Query(ctx, `SELECT idx, allowed, decided_at, edge FROM limiter_allow_group($1, $2, $3)`, keys, limits, now)
	if err != nil {
		return err
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var (
			idx int
			d   camsd.Decision
			e   *time.Time
		)
		if err := rows.Scan(&idx, &d.Allowed, &d.At, &e); err != nil {
			return err
		}
		if idx < 1 || idx > len(batch) {
			return fmt.Errorf("unexpected decision %d of %d", idx, len(batch))
		}
		batch[idx-1].d, batch[idx-1].edge = d, e
		seen++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if seen != len(batch) {
		return fmt.Errorf("%d decisions for %d calls", seen, len(batch))
	}
	return nil
}

// clock is the time to decide at: nil, PostgreSQL's clock, unless a test set l.now.
func (l *Limiter) clock() *time.Time {
	if l.now == nil {
		return nil
	}
	t := l.now()
	return &t
}

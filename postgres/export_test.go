package postgres

import "time"

// SetLimiterClock makes l decide at now's time instead of PostgreSQL's, so that the limiter
// contract's exact cases can run against the real function.
func SetLimiterClock(l *Limiter, now func() time.Time) { l.now = now }

// TrimSweepEvery is how often the outbox's trim sweeps below its bound.
const TrimSweepEvery = trimSweepEvery

// SecondFrom is how many writes wait before a second writer starts a group.
const SecondFrom = secondFrom

// SetGatherFor sets how long db's group writers wait for the writes of running calls.
func SetGatherFor(db *DB, d time.Duration) { db.groups.gatherFor = d }

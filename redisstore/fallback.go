package redisstore

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/camsd/camsd"
)

var _ camsd.Limiter = (*Fallback)(nil)

// Fallback is flow control that survives Redis going away: it decides with Shared, and when
// Shared's error wraps ErrUnavailable it decides that call with Local instead and counts it.
// Any other error from Shared is returned as it is.
//
// Local is a per-replica limiter (cmd/camsd gives it ratelimit's). While it decides, the limit
// holds per replica, not across them: n replicas admit up to n times the limit, and in the
// first second after Redis returns its window does not know what Local admitted. That is the
// trade issue 6 makes: no decision waits for Redis longer than its timeout, and every such
// decision shows in Fallbacks.
type Fallback struct {
	Shared camsd.Limiter // a Limiter on Redis
	Local  camsd.Limiter // a per-replica limiter

	fallbacks atomic.Uint64
}

// Allow decides one call; see Fallback.
func (f *Fallback) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	d, err := f.Shared.Allow(ctx, key, limit)
	if errors.Is(err, ErrUnavailable) {
		f.fallbacks.Add(1)
		return f.Local.Allow(ctx, key, limit)
	}
	return d, err
}

// Fallbacks returns how many decisions Local has made since f was made.
func (f *Fallback) Fallbacks() uint64 { return f.fallbacks.Load() }

var _ camsd.NonceStore = (*NonceGuard)(nil)

// NonceGuard accepts a nonce once whatever becomes of Redis: Durable (the database's nonce
// store) records every nonce and is the authority; Redis is the fast first check, which
// refuses a replay it knows without asking Durable. When Redis does not answer, Durable alone
// decides, and the check is counted; when Redis has lost its data (a restart without
// persistence, FLUSHALL), Durable still refuses the replay.
type NonceGuard struct {
	Redis   camsd.NonceStore // a Nonces on Redis
	Durable camsd.NonceStore // the database's

	fallbacks atomic.Uint64
}

// Use records nonce; see NonceGuard. It returns Durable's verdict, or Redis's ErrNonceUsed or
// ErrNonceStoreFull, or an error of Redis that is not ErrUnavailable (a script's bug).
func (g *NonceGuard) Use(ctx context.Context, accessKeyID, nonce string, expires time.Time) error {
	err := g.Redis.Use(ctx, accessKeyID, nonce, expires)
	switch {
	case errors.Is(err, ErrUnavailable):
		g.fallbacks.Add(1)
	case err != nil:
		return err
	}
	return g.Durable.Use(ctx, accessKeyID, nonce, expires)
}

// Fallbacks returns how many nonces Durable alone checked because Redis did not answer.
func (g *NonceGuard) Fallbacks() uint64 { return g.fallbacks.Load() }

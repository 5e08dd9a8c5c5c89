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
// store) is the authority; Redis is the fast first check, which refuses a replay it knows
// without asking Durable. When Redis does not answer, Durable alone decides, and the check is
// counted.
//
// When Redis accepted the nonce, Durable records it too: at once, or, with WithChange, with
// the call's first change of state, in the same transaction (Call.Nonce), which refuses the
// change if the nonce was recorded already. Either way a Redis that lost its data (a restart
// without persistence, FLUSHALL) lets no replay change anything.
type NonceGuard struct {
	Redis   camsd.NonceStore // a Nonces on Redis
	Durable camsd.NonceStore // the database's

	// WithChange: Durable's store records Call.Nonce with the call's first change (the
	// postgres store does), so a call that Redis admitted needs no write of its own for its
	// nonce. A call that changes nothing then leaves its nonce in Redis alone.
	WithChange bool

	// Now is the replica's clock, which judges the expiry of a nonce left to the change (as
	// the database's store judges its own). Default time.Now.
	Now func() time.Time

	fallbacks atomic.Uint64
}

// Use records nonce; see NonceGuard. It returns Durable's verdict, or Redis's ErrNonceUsed or
// ErrNonceStoreFull, or an error of Redis that is not ErrUnavailable (a script's bug).
func (g *NonceGuard) Use(ctx context.Context, call *camsd.Call, accessKeyID, nonce string, expires time.Time) error {
	err := g.Redis.Use(ctx, call, accessKeyID, nonce, expires)
	switch {
	case errors.Is(err, ErrUnavailable):
		g.fallbacks.Add(1)
	case err != nil:
		return err
	case g.WithChange && call != nil:
		now := time.Now
		if g.Now != nil {
			now = g.Now
		}
		call.Nonce = &camsd.CallNonce{AccessKeyID: accessKeyID, Nonce: nonce, Expires: expires, Now: now()}
		return nil
	}
	return g.Durable.Use(ctx, call, accessKeyID, nonce, expires)
}

// Fallbacks returns how many nonces Durable alone checked because Redis did not answer.
func (g *NonceGuard) Fallbacks() uint64 { return g.fallbacks.Load() }

package redisstore

import (
	"context"
	"errors"
	"sync/atomic"

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

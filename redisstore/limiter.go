package redisstore

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/camsd/camsd"
	"github.com/redis/go-redis/v9"
)

var _ camsd.Limiter = (*Limiter)(nil)

//go:embed allow.lua
var allowSource string

// allowScript is one decision: see allow.lua.
var allowScript = redis.NewScript(allowSource)

// Limiter admits at most limit calls per key in any rolling second, across every replica that
// shares its Redis and prefix; see the package comment. It is safe for concurrent use.
type Limiter struct {
	client *Client
	prefix string

	now func() time.Time // tests only: the time to decide at instead of Redis's
}

// NewLimiter returns a Limiter on c whose keys start with prefix, such as "camsd:", so that
// deployments sharing a Redis database keep apart.
func NewLimiter(c *Client, prefix string) *Limiter {
	return &Limiter{client: c, prefix: prefix}
}

// Allow decides one call for key in one round trip, at Redis's time, which is Decision.At (to
// the microsecond). Decision.RetryAfter, when refused, is how long until the window has room.
// It returns an error wrapping ErrUnavailable when Redis does not answer within the Client's
// timeout, and another error when limit is not positive, which is a wiring bug (an account's
// 0 QPS means "the server default" and must be resolved by the caller).
func (l *Limiter) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	if limit <= 0 {
		return camsd.Decision{}, fmt.Errorf("redisstore: limit %d for key %q is not positive", limit, key)
	}
	args := []any{limit}
	if l.now != nil {
		args = append(args, l.now().UnixMicro())
	}
	cmd, err := l.client.run(ctx, "allow", allowScript, []string{l.prefix + "rate:" + key}, args...)
	if err != nil {
		return camsd.Decision{}, err
	}
	r, err := cmd.Int64Slice()
	if err != nil || len(r) != 3 {
		return camsd.Decision{}, fmt.Errorf("redisstore: allow: unexpected reply %v", cmd.Val())
	}
	d := camsd.Decision{Allowed: r[0] == 1, At: time.UnixMicro(r[1])}
	if !d.Allowed {
		d.RetryAfter = time.Duration(r[2]) * time.Microsecond
	}
	return d, nil
}

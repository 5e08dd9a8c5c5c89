package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/camsd/camsd"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultTimeout is how long a call waits for Redis when no timeout is configured (issue 6).
const DefaultTimeout = 50 * time.Millisecond

// ErrUnavailable is wrapped by every error that means Redis did not answer in time: it could
// not be reached, it did not reply within the timeout, or it replied that it cannot serve now
// (loading, read-only replica, out of memory, busy with a script). Callers fail closed on it:
// a nonce check answers 503 ServiceUnavailable, and Fallback decides flow control per replica.
var ErrUnavailable = fmt.Errorf("redis %w", camsd.ErrUnavailable)

// Client is a connection pool to one Redis server, shared by the Limiter and Nonces made on
// it. It is safe for concurrent use.
type Client struct {
	rdb     *redis.Client
	timeout time.Duration
}

// Open returns a Client for the server at url, redis://[user:password@]host:port/db (or
// rediss:// for TLS), in the form redis.ParseURL reads. It does not connect: a replica starts
// while Redis is down, and Ping tells when it answers.
//
// Every call waits for Redis at most timeout (DefaultTimeout when not positive), whatever it
// waits for: a free connection, a dial, the connection's handshake, a write or a reply. There
// are no retries, so a call never waits for two timeouts: a caller that must decide decides
// without Redis instead. Timeouts given in url are overridden.
func Open(url string, timeout time.Duration) (*Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
	opt.ContextTimeoutEnabled = true // every call carries a deadline of timeout; see do
	opt.MaxRetries = -1              // none
	opt.DialerRetries = 1            // one attempt
	// Maintenance notifications are a Redis Enterprise handshake; elsewhere they cost a round
	// trip on every new connection.
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return &Client{rdb: redis.NewClient(opt), timeout: timeout}, nil
}

// Ping reports whether Redis answers within the timeout. Its error wraps ErrUnavailable when
// Redis does not.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, "ping", func(ctx context.Context) error { return c.rdb.Ping(ctx).Err() })
}

// Close closes the connections. Calls made after it return an error wrapping ErrUnavailable.
func (c *Client) Close() error { return c.rdb.Close() }

// run runs a script and returns the command, which holds its reply.
func (c *Client) run(ctx context.Context, op string, s *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	var cmd *redis.Cmd
	err := c.do(ctx, op, func(ctx context.Context) error {
		cmd = s.Run(ctx, c.rdb, keys, args...)
		return cmd.Err()
	})
	return cmd, err
}

// do calls f with a context that ends after the timeout, and classifies its error. The
// deadline covers all f does, including the first use of a script on a server, which takes
// two round trips (EVALSHA answered NOSCRIPT, then EVAL).
func (c *Client) do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := f(tctx)
	switch {
	case err == nil:
		return nil
	case callerDone(ctx):
		// The caller gave up (its request ended or its own deadline passed): not Redis's fault.
		return fmt.Errorf("redisstore: %s: %w", op, err)
	case unavailable(err):
		return fmt.Errorf("redisstore: %s: %w: %w", op, ErrUnavailable, err)
	default:
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
}

// callerDone reports whether ctx has ended, or its deadline has passed: a socket deadline set
// from it may fire a moment before the context's own timer marks it done.
func callerDone(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// unavailable reports whether err means Redis cannot serve now, as opposed to a reply that
// would be the same on retry (a bug in a script, a wrong password).
func unavailable(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true // no reply at all: dial, write or read failed or timed out, pool, closed
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsClusterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.IsOOMError(err) || redis.HasErrorPrefix(err, "BUSY ")
}

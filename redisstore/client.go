package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camsd/camsd"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultTimeout is how long a call waits for Redis when no timeout is configured. It judges
// Redis, not the replica: it starts when the call's pipeline is written (not while the call
// waits for its turn) and is long enough that a replica whose CPU is saturated still reads a
// healthy Redis's reply in time, so that a busy replica never abandons Redis for its fallbacks.
// A Redis that is down costs a call this long once, since the Client is then marked down.
const DefaultTimeout = time.Second

// ErrUnavailable is wrapped by every error that means Redis did not answer in time: it could
// not be reached, it did not reply within the timeout, it replied that it cannot serve now
// (loading, read-only replica, out of memory, busy with a script), or the Client is marked
// down. Callers then decide without Redis: Fallback with a per-replica limiter, NonceFallback
// with a durable nonce store.
var ErrUnavailable = fmt.Errorf("redis %w", camsd.ErrUnavailable)

const (
	// pipeliners is how many pipelines may be in flight at once: while one waits for Redis,
	// the next fills.
	pipeliners = 2
	// maxPipeline bounds the scripts of one pipeline.
	maxPipeline = 256
	// probeEvery is how often a Client marked down pings Redis; upAfter successful pings in
	// a row mark it up again.
	probeEvery = 250 * time.Millisecond
	upAfter    = 2
)

// Client is a connection pool to one Redis server, shared by the Limiter and Nonces made on
// it. It is safe for concurrent use.
//
// Scripts of concurrent calls are pipelined: each of a few senders takes every call queued
// when it is free and sends their scripts in one write, reading their replies in one go.
//
// A Client is up or down. Up, calls go to Redis. A call that finds Redis unavailable marks it
// down, and from then on calls fail at once with ErrUnavailable, without waiting for Redis,
// while a prober pings it every probeEvery; upAfter answers in a row mark it up again. So an
// outage costs the calls in flight at its start one timeout each, and no later call anything.
type Client struct {
	rdb     *redis.Client
	timeout time.Duration

	queue chan *scriptCall
	stop  chan struct{}
	wg    sync.WaitGroup

	mu        sync.Mutex
	down      bool
	since     time.Time
	cause     error
	onChange  func(up bool, cause error)
	downs     atomic.Uint64
	pipelines atomic.Uint64
}

// Open returns a Client for the server at url, redis://[user:password@]host:port/db (or
// rediss:// for TLS), in the form redis.ParseURL reads. It does not connect: a replica starts
// while Redis is down, and Ping tells when it answers.
//
// A call waits for Redis at most timeout (DefaultTimeout when not positive) once its pipeline
// is sent: the dial, the handshake, the write and the reply together. There are no retries,
// so a call never waits for two timeouts. Timeouts given in url are overridden.
func Open(url string, timeout time.Duration) (*Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
	opt.ContextTimeoutEnabled = true // every call carries a deadline of timeout
	opt.MaxRetries = -1              // none
	opt.DialerRetries = 1            // one attempt
	// Maintenance notifications are a Redis Enterprise handshake; elsewhere they cost a round
	// trip on every new connection.
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	c := &Client{rdb: redis.NewClient(opt), timeout: timeout,
		queue: make(chan *scriptCall, 4*maxPipeline), stop: make(chan struct{})}
	for range pipeliners {
		c.wg.Add(1)
		go c.sender()
	}
	c.wg.Add(1)
	go c.prober()
	return c, nil
}

// OnChange has f told of every change between up and down, with the failure that marked the
// Client down (nil when it comes up): the caller logs it.
func (c *Client) OnChange(f func(up bool, cause error)) {
	c.mu.Lock()
	c.onChange = f
	c.mu.Unlock()
}

// Up reports whether the Client is up: calls go to Redis.
func (c *Client) Up() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.down
}

// Pipelines returns how many pipelines the Client has sent since Open.
func (c *Client) Pipelines() uint64 { return c.pipelines.Load() }

// Downs returns how many times the Client was marked down since Open.
func (c *Client) Downs() uint64 { return c.downs.Load() }

// Ping reports whether Redis answers within the timeout, whether the Client is up or down.
// Its error wraps ErrUnavailable when Redis does not.
func (c *Client) Ping(ctx context.Context) error {
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return classify(ctx, "ping", c.rdb.Ping(tctx).Err())
}

// Close stops the senders and the prober and closes the connections. Calls made after it
// return an error wrapping ErrUnavailable.
func (c *Client) Close() error {
	c.mu.Lock()
	select {
	case <-c.stop:
		c.mu.Unlock()
		return nil
	default:
	}
	close(c.stop)
	c.mu.Unlock()
	c.wg.Wait()
	return c.rdb.Close()
}

// scriptCall is one script run queued for a pipeline, and once done is closed, its reply.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
	done   chan struct{}
}

// run runs a script in the next pipeline and returns the command, which holds its reply. It
// fails at once, with ErrUnavailable, while the Client is down; a failure that shows Redis
// unavailable marks it down.
func (c *Client) run(ctx context.Context, op string, s *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	if err := c.downErr(op); err != nil {
		return nil, err
	}
	sc := &scriptCall{script: s, keys: keys, args: args, done: make(chan struct{})}
	select {
	case c.queue <- sc:
	case <-c.stop:
		return nil, fmt.Errorf("redisstore: %s: %w: closed", op, ErrUnavailable)
	case <-ctx.Done():
		return nil, fmt.Errorf("redisstore: %s: %w", op, ctx.Err())
	}
	select {
	case <-sc.done:
	case <-ctx.Done():
		// The caller gave up (its request ended): not Redis's fault.
		return nil, fmt.Errorf("redisstore: %s: %w", op, ctx.Err())
	}
	if err := sc.cmd.Err(); err != nil {
		err = classify(context.Background(), op, err)
		if errors.Is(err, ErrUnavailable) {
			c.markDown(err)
		}
		return nil, err
	}
	return sc.cmd, nil
}

// downErr returns the error of a call made while the Client is down, or nil.
func (c *Client) downErr(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.down {
		return nil
	}
	return fmt.Errorf("redisstore: %s: %w: down since %s: %v", op, ErrUnavailable, c.since.Format(time.RFC3339Nano), c.cause)
}

// sender sends pipelines until Close: it waits for a first call, takes what else is queued,
// up to maxPipeline, and sends them together.
func (c *Client) sender() {
	defer c.wg.Done()
	batch := make([]*scriptCall, 0, maxPipeline)
	for {
		select {
		case first := <-c.queue:
			batch = append(batch[:0], first)
		case <-c.stop:
			for { // fail what is left
				select {
				case sc := <-c.queue:
					sc.cmd = redis.NewCmd(context.Background())
					sc.cmd.SetErr(errors.New("redisstore: closed"))
					close(sc.done)
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < maxPipeline {
			select {
			case sc := <-c.queue:
				batch = append(batch, sc)
			default:
				break fill
			}
		}
		c.send(batch)
	}
}

// send runs batch's scripts in one pipeline, by digest; those Redis does not know (after a
// restart or SCRIPT FLUSH) are run again by source, which loads them.
func (c *Client) send(batch []*scriptCall) {
	c.pipelines.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	pipe := c.rdb.Pipeline()
	for _, sc := range batch {
		sc.cmd = sc.script.EvalSha(ctx, pipe, sc.keys, sc.args...)
	}
	_, _ = pipe.Exec(ctx) // each command holds its own error
	for _, sc := range batch {
		if err := sc.cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			sc.cmd = sc.script.Run(ctx, c.rdb, sc.keys, sc.args...)
		}
		close(sc.done)
	}
}

// prober pings Redis while the Client is down, and marks it up after upAfter answers in a row.
func (c *Client) prober() {
	defer c.wg.Done()
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	answered := 0
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if c.Up() {
			answered = 0
			continue
		}
		if c.Ping(context.Background()) != nil {
			answered = 0
			continue
		}
		if answered++; answered >= upAfter {
			c.markUp()
			answered = 0
		}
	}
}

func (c *Client) markDown(cause error) {
	c.mu.Lock()
	if c.down {
		c.mu.Unlock()
		return
	}
	c.down, c.since, c.cause = true, time.Now(), cause
	c.downs.Add(1)
	f := c.onChange
	c.mu.Unlock()
	if f != nil {
		f(false, cause)
	}
}

func (c *Client) markUp() {
	c.mu.Lock()
	if !c.down {
		c.mu.Unlock()
		return
	}
	c.down, c.cause = false, nil
	f := c.onChange
	c.mu.Unlock()
	if f != nil {
		f(true, nil)
	}
}

// classify wraps err, a failure of op, with ErrUnavailable when it means Redis cannot serve
// now; ctx is the caller's (its end is not Redis's fault).
func classify(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case callerDone(ctx):
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

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The listener keeps the tenant cache (cache.go) honest: on a connection of its own, outside
// the pool, it LISTENs on the schema's channel, which the triggers of migration 0004 notify on
// every change of a tenant table, and drops what each notification names as soon as it is read.
const (
	// listenApplication is the listener connection's application_name, which names it in
	// pg_stat_activity.
	listenApplication = "camsd-listen"
	// cacheLease is how long after the start of the listener's last successful round trip the
	// cache may answer: a change is seen on every replica within it, even when the notification
	// connection dies without a word.
	cacheLease = time.Second
	// listenHeartbeat is how often the listener, when no notification comes, proves that its
	// connection still works (and so renews the lease).
	listenHeartbeat = 250 * time.Millisecond
	// listenTimeout bounds connecting and each heartbeat.
	listenTimeout = 5 * time.Second
	// minBackoff and maxBackoff bound the wait between attempts to reconnect; it doubles
	// after each failed attempt and starts again at minBackoff after a LISTEN succeeds.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// tenantChannel returns the channel the triggers notify for the schema that holds camsd's
// tables on pool's connections, computed by the database's own tenant_channel.
func tenantChannel(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var channel string
	err := pool.QueryRow(ctx, `
		SELECT tenant_channel(n.nspname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = 'accounts'::regclass`).Scan(&channel)
	if err != nil {
		return "", fmt.Errorf("postgres: tenant channel: %w", err)
	}
	return channel, nil
}

// listener is the goroutine that Open starts and Close stops.
type listener struct {
	cfg     *pgx.ConnConfig
	listen  string // the LISTEN statement
	tenants *tenantCache
	cancel  context.CancelFunc
	done    chan struct{}
}

// startListener starts listening on channel with a connection configured as poolCfg's,
// invalidating tenants.
func startListener(poolCfg *pgxpool.Config, channel string, tenants *tenantCache) *listener {
	cfg := poolCfg.ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = listenApplication
	// Called while any reply on the connection is read, the heartbeat's too: a notification
	// takes effect before the heartbeat that follows it renews the lease.
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) { tenants.invalidate(n.Payload) }
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{
		cfg:     cfg,
		listen:  "LISTEN " + pgx.Identifier{channel}.Sanitize(),
		tenants: tenants,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go l.run(ctx)
	return l
}

// stop stops the goroutine and waits for it to end; the cache is then stopped.
func (l *listener) stop() {
	l.cancel()
	<-l.done
}

func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	backoff := minBackoff
	for {
		listened := l.session(ctx)
		// Whatever ended the session, notifications may have been missed from now on.
		l.tenants.stop()
		if listened {
			backoff = minBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session connects, listens and reads notifications until the connection fails or ctx is
// done. It reports whether it got as far as listening.
func (l *listener) session(ctx context.Context) (listened bool) {
	cctx, cancel := context.WithTimeout(ctx, listenTimeout)
	conn, err := pgx.ConnectConfig(cctx, l.cfg)
	cancel()
	if err != nil {
		return false
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()

	// roundTrip runs the LISTEN (again, as the heartbeat: a no-op that also keeps the channel in
	// pg_stat_activity's query column) and returns when it started.
	roundTrip := func() (time.Time, error) {
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, listenTimeout)
		defer cancel()
		_, err := conn.Exec(rctx, l.listen)
		return start, err
	}
	start, err := roundTrip()
	if err != nil {
		return false
	}
	l.tenants.start(start.Add(cacheLease))
	for {
		wctx, cancel := context.WithDeadline(ctx, start.Add(listenHeartbeat))
		err := conn.PgConn().WaitForNotification(wctx) // OnNotification has invalidated
		cancel()
		switch {
		case ctx.Err() != nil:
			return true
		case err == nil:
			continue
		case !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed():
			return true // the connection is lost
		}
		if start, err = roundTrip(); err != nil {
			return true
		}
		l.tenants.renew(start.Add(cacheLease))
	}
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	_ camsd.Store      = (*DB)(nil)
	_ camsd.NonceStore = (*DB)(nil)
	_ camsd.Outbox     = (*DB)(nil)
)

// DefaultMaxNonces is how many live nonces one AccessKey may hold when Options.MaxNonces is not
// set: the SQLite store's bound.
const DefaultMaxNonces = 1_000_000

// defaultMaxConns is the pool's size unless the URL's pool_max_conns says otherwise: the
// group writers' connections (group.go, the Limiter's) and enough for the reads of concurrent
// requests.
const defaultMaxConns = 16

// idleInTransaction is the session's idle_in_transaction_session_timeout unless the URL sets
// one.
const idleInTransaction = "30s"

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Now is the clock that judges nonce expiry. Default time.Now. Flow control reads
	// PostgreSQL's clock instead (see Limiter).
	Now func() time.Time
	// MaxNonces is how many live nonces one AccessKey may hold. Default DefaultMaxNonces.
	MaxNonces int
	// Schema, when not empty, is the schema that holds camsd's tables: Open creates it if it
	// is missing, and every connection uses it alone (search_path). Several deployments of
	// camsd can then share one database, and each test its own store. When empty, the
	// connection's own search_path decides (by default the "public" schema).
	Schema string
	// Keys seal AccessKey secrets and PINs at rest (sealed.go); nil or empty: stored as they
	// come.
	Keys *seal.Keyring
}

// DB is camsd's store on PostgreSQL: camsd.Store, camsd.NonceStore and camsd.Outbox on one
// connection pool. It is safe for concurrent use, and any number of DBs, in this process or
// in other replicas, may share a database (see the package comment for what stays exact).
type DB struct {
	pool      *pgxpool.Pool
	now       func() time.Time
	maxNonces int
	keys      *seal.Keyring
	nonces    sweeper
	groups    *groups // group commit of the hot path's writes (group.go)

	numberReads *camsd.Queue[*numberRead] // PhoneNumber's batches (numberread.go)

	tenants  tenantCache // keys, spaces and numbers (cache.go)
	listener *listener   // keeps tenants honest (listen.go)
}

// Open connects to the database at url (postgres://user:password@host:port/db?sslmode=…, or any
// form pgxpool.ParseConfig reads, including its pool_max_conns parameter, which defaults here
// to defaultMaxConns), brings the schema up to date, seals the secrets still in plaintext when
// opts.Keys has a key (and refuses a database sealed with a key it lacks:
// *seal.MissingKeyError) and returns the DB.
// Replicas may open the same database at once: the migrations run under an advisory lock, one
// replica after the other.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's own default (4 on this kind of machine) is taken up by the group writers
		// alone, and every request's reads would queue for the one connection left.
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	params := cfg.ConnConfig.RuntimeParams
	if opts.Schema != "" {
		params["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if _, set := params["idle_in_transaction_session_timeout"]; !set {
		// A replica whose host vanishes in the middle of a ChangeNumber would otherwise hold
		// the number's lock until TCP gives up on it, which takes hours. camsd's transactions
		// never idle for more than a round trip.
		params["idle_in_transaction_session_timeout"] = idleInTransaction
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, now: opts.Now, maxNonces: opts.MaxNonces, keys: opts.Keys}
	db.tenants.numbers.foundOnly = true
	if db.now == nil {
		db.now = time.Now
	}
	if db.maxNonces <= 0 {
		db.maxNonces = DefaultMaxNonces
	}
	db.maxNonces = min(db.maxNonces, math.MaxInt32) // nonce_use takes an integer
	if err := migrate(ctx, pool, opts.Schema); err != nil {
		pool.Close()
		return nil, err
	}
	if err := checkDurable(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if err := sealAtStart(ctx, pool, db.keys); err != nil {
		pool.Close()
		return nil, err
	}
	channel, err := tenantChannel(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db.groups = newGroups(pool, db.maxNonces, opts.Schema)
	db.startNumberReads()
	db.listener = startListener(pool.Config(), channel, &db.tenants)
	return db, nil
}

// checkDurable refuses a server that acknowledges commits before they are flushed: the
// stores return once committed, and promise that what they acknowledged survives a crash.
func checkDurable(ctx context.Context, pool *pgxpool.Pool) error {
	var mode string
	if err := pool.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&mode); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if mode == "off" {
		return errors.New("postgres: synchronous_commit is off, so a commit could be lost in a crash after camsd acknowledged it; set it to on (the default) for camsd's role or database")
	}
	return nil
}

// Close closes the pool's connections, waiting for those in use to be returned. Calls made
// after Close fail.
func (db *DB) Close() error {
	// The listener first, and with it the tenant cache: nothing is answered from memory after
	// Close.
	db.listener.stop()
	db.groups.close() // makes what is queued: nothing acknowledged waits on a closed pool
	db.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Empty reports whether the store holds no account at all.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var empty bool
	if err := db.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM accounts)`).Scan(&empty); err != nil {
		return false, wrap("empty", err)
	}
	return empty, nil
}

// Track counts call as running until call.End, so that a group writer holding a few writes
// may wait a moment for its writes (group.go's gather).
func (db *DB) Track(call *camsd.Call) { db.groups.running.Track(call) }

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/acs"
	"github.com/camsd/camsd/admin"
	"github.com/camsd/camsd/graph"
	"github.com/camsd/camsd/httpapi"
	"github.com/camsd/camsd/metrics"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/ratelimit"
	"github.com/camsd/camsd/redisstore"
	"github.com/camsd/camsd/seed"
	"github.com/camsd/camsd/sim"
	"github.com/camsd/camsd/sqlite"
)

// Main is one running camsd. Tests start it on 127.0.0.1:0 and read URL.
type Main struct {
	Config ServeConfig
	Now    func() time.Time // the server's clock; nil means time.Now

	DB  Backend
	URL string // http://host:port (https:// with --tls-cert) once Open returned

	pg *postgres.DB // when --database

	wrapLimiter func(camsd.Limiter) camsd.Limiter       // tests see every decision
	wrapNonces  func(camsd.NonceStore) camsd.NonceStore // and those made with a nonce
	redis       *redisstore.Client                      // when --redis
	HTTP        *http.Server

	Metrics *metrics.Metrics

	AdminURL  string // http:// or https://host:port of the admin API; empty when it is off
	AdminHTTP *http.Server

	MetricsURL  string // where /metrics is served (the admin listener or --metrics-listen); empty: nowhere
	metricsHTTP *http.Server

	stopHangups []func() // stop reading certificates again on SIGHUP

	stdout, stderr io.Writer
	logger         *slog.Logger
	ln             net.Listener
	served         chan error
}

// Backend is everything camsd keeps: tenants, numbers, codes, the audit trail, nonces and the
// simulator's outbox.
type Backend interface {
	camsd.Store
	camsd.TenantAdmin
	camsd.NonceStore
	camsd.Outbox
}

// NewMain returns a Main that prints what a user needs on stdout and logs on stderr.
func NewMain(cfg ServeConfig, stdout, stderr io.Writer) *Main {
	return &Main{Config: cfg, stdout: stdout, stderr: stderr}
}

// Run serves until ctx ends, then drains in-flight requests.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		_ = m.Close()
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-m.served:
		_ = m.Close()
		return err
	}
	return m.Close()
}

// Open opens the database, applies the seed (or makes the demo tenant) and starts serving.
func (m *Main) Open(ctx context.Context) error {
	m.logger = newLogger(m.Config.LogFormat, m.stderr)
	now := m.Now
	if now == nil {
		now = time.Now
	}

	if err := m.openBackend(ctx, now); err != nil {
		return err
	}
	if err := m.applySeed(ctx); err != nil {
		return err
	}

	ln, url, err := m.listen(m.Config.Listen, m.Config.TLSCert, m.Config.TLSKey)
	if err != nil {
		return err
	}
	m.ln, m.URL = ln, url
	if err := m.ensureDemo(ctx); err != nil {
		return err
	}

	hub := &sim.Hub{} // the simulator's page hears of each captured message
	m.Metrics = metrics.New()
	limiter, nonces, ready, err := m.flowControl(now)
	if err != nil {
		return err
	}
	if m.pg != nil {
		m.postgresMetrics()
	}
	if m.wrapLimiter != nil {
		limiter = m.wrapLimiter(limiter)
	}
	if m.wrapNonces != nil {
		nonces = m.wrapNonces(nonces)
	}
	if n, ok := nonces.(interface{ NonceCount() int }); ok {
		m.Metrics.Gauge("camsd_nonces", "Signature nonces the nonce store remembers.", func() float64 { return float64(n.NonceCount()) })
	}
	flow := &migration.Service{
		Store:          m.DB,
		Provider:       m.Metrics.Provider(&sim.Provider{Outbox: m.DB, Keep: m.Config.SimRetention, Now: now, Hub: hub}),
		Upstream:       m.upstream(),
		Now:            now,
		CodeTTL:        m.Config.CodeTTL,
		ResendInterval: m.Config.ResendInterval,

		VerificationValidity: m.Config.Validity,
		MaxCheckAttempts:     m.Config.MaxAttempts,
	}
	stsService, err := m.stsService(ctx)
	if err != nil {
		return err
	}
	srv := &httpapi.Server{
		Auth: &acs.Authenticator{
			Versions: httpapi.Versions(),
			Actions:  httpapi.KnownAction,
			Keys:     m.DB,
			Sessions: stsService,
			Nonces:   nonces,
			MaxSkew:  m.Config.MaxSkew,
			Now:      now,
		},
		Limiter:   limiter,
		Store:     m.DB,
		Migration: flow,
		STS:       stsService,
		Sim:       m.simHandler(hub),
		Observer:  m.Metrics,

		ReadyChecks: ready,
		QPS:         m.Config.QPS,
		Logger:      m.logger,
		Now:         now,
	}
	m.HTTP = &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	m.HTTP.RegisterOnShutdown(hub.Close) // open event streams end, so Shutdown can drain
	m.served = make(chan error, 1)
	go func() {
		if err := m.HTTP.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.served <- err
		}
		close(m.served)
	}()
	m.logger.Info("serving", "url", m.URL, "data_dir", m.Config.DataDir)
	if err := m.openAdmin(flow); err != nil {
		return err
	}
	return m.openMetrics()
}

// openBackend opens the store: PostgreSQL with --database, else SQLite in --data-dir.
func (m *Main) openBackend(ctx context.Context, now func() time.Time) error {
	keys, err := m.openKeyring()
	if err != nil {
		return err
	}
	if m.Config.Database != "" {
		db, err := postgres.Open(ctx, m.Config.Database, postgres.Options{Now: now, MaxNonces: m.Config.MaxNonces, Keys: keys})
		if err != nil {
			return fmt.Errorf("open database: %w", masterKeyRefusal(err))
		}
		m.DB, m.pg = db, db
		return nil
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return err
	}
	db := sqlite.NewDB(filepath.Join(m.Config.DataDir, "camsd.db"))
	db.Now = now
	db.MaxNonces = m.Config.MaxNonces
	db.Keys = keys
	if err := db.Open(); err != nil {
		return fmt.Errorf("open database: %w", masterKeyRefusal(err))
	}
	m.DB = db
	return nil
}

// flowControl returns the limiter and the nonce store, and the checks /readyz adds for them:
// with --redis, Redis decides flow control and is the fast first check of nonces, which the
// database records too (so a replay is refused whatever Redis forgot); while Redis does not
// answer, the per-replica limiter decides flow control and the database alone checks nonces,
// each decision counted, and the change logged. Without Redis, PostgreSQL decides both, exact
// across replicas; with SQLite, whose one process owns the data, both are in-process.
func (m *Main) flowControl(now func() time.Time) (camsd.Limiter, camsd.NonceStore, map[string]func(context.Context) error, error) {
	local := ratelimit.New()
	local.Now = now
	switch {
	case m.Config.Redis != "":
		c, err := redisstore.Open(m.Config.Redis, m.Config.RedisTimeout)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("redis: %w", err)
		}
		m.redis = c
		c.OnChange(func(up bool, cause error) {
			if up {
				m.logger.Info("redis: answering again; flow control and nonces back on Redis")
				return
			}
			m.logger.Warn("redis: not answering; flow control per replica and nonces in the database until it does", "cause", cause.Error())
		})
		limiter := &redisstore.Fallback{Shared: redisstore.NewLimiter(c, m.Config.RedisPrefix), Local: local}
		// PostgreSQL records a nonce that Redis admitted with the call's first change, in the
		// same transaction (camsd.Call.Nonce); SQLite records every nonce at once.
		nonces := &redisstore.NonceGuard{Redis: redisstore.NewNonces(c, m.Config.RedisPrefix, m.Config.MaxNonces), Durable: m.DB, WithChange: m.pg != nil, Now: now}
		m.Metrics.Counter("camsd_flow_control_fallbacks_total", "Flow-control decisions made by the per-replica limiter because Redis did not answer.",
			func() float64 { return float64(limiter.Fallbacks()) })
		m.Metrics.Counter("camsd_nonce_fallbacks_total", "Nonces checked by the database alone because Redis did not answer.",
			func() float64 { return float64(nonces.Fallbacks()) })
		m.Metrics.Gauge("camsd_redis_up", "1 while camsd uses Redis, 0 while Redis does not answer and camsd decides without it.", func() float64 {
			if c.Up() {
				return 1
			}
			return 0
		})
		// Redis is not a readiness check: camsd serves without it.
		return limiter, nonces, nil, nil
	case m.pg != nil:
		return postgres.NewLimiter(m.pg), m.pg, nil, nil
	default:
		return local, m.DB, nil, nil
	}
}

// postgresMetrics exports how the PostgreSQL store's group commit and tenant cache do.
func (m *Main) postgresMetrics() {
	pg := m.pg
	group := func(f func(postgres.GroupStats) uint64) func() float64 {
		return func() float64 { return float64(f(pg.GroupStats())) }
	}
	m.Metrics.Counter("camsd_postgres_groups_total", "Groups of writes made, each one statement and one commit.", group(func(s postgres.GroupStats) uint64 { return s.Groups }))
	m.Metrics.Counter("camsd_postgres_group_writes_total", "Writes made in groups.", group(func(s postgres.GroupStats) uint64 { return s.Writes }))
	m.Metrics.Counter("camsd_postgres_group_fallbacks_total", "Groups whose statement failed, so that each write was made alone.", group(func(s postgres.GroupStats) uint64 { return s.Fallbacks }))
	seconds := func(f func(postgres.GroupStats) time.Duration) func() float64 {
		return func() float64 { return f(pg.GroupStats()).Seconds() }
	}
	m.Metrics.Counter("camsd_postgres_group_gather_seconds_total", "Time the group writers spent waiting for the writes of calls still running before making their groups.", seconds(func(s postgres.GroupStats) time.Duration { return s.Gathering }))
	m.Metrics.Counter("camsd_postgres_group_make_seconds_total", "Time the group writers spent making groups: statement, commit and, for a failed group, its writes one by one.", seconds(func(s postgres.GroupStats) time.Duration { return s.Making }))
	m.Metrics.Counter("camsd_tenant_cache_hits_total", "Keys and spaces answered from the replica's cache.", func() float64 { return float64(pg.CacheHits()) })
	m.Metrics.Counter("camsd_tenant_cache_misses_total", "Keys and spaces read from PostgreSQL.", func() float64 { return float64(pg.CacheMisses()) })
}

// upstream is the platform behind the flow: nil for the simulator, the Graph API for
// --provider whatsapp (its counters are exported as metrics).
func (m *Main) upstream() camsd.Upstream {
	if m.Config.Provider != "whatsapp" {
		return nil
	}
	c := &graph.Client{
		BaseURL: m.Config.GraphURL,
		Version: m.Config.GraphVersion,
		Token:   m.Config.GraphToken,
		Timeout: m.Config.GraphTimeout,
	}
	stat := func(f func(graph.Stats) int64) func() float64 {
		return func() float64 { return float64(f(c.Stats())) }
	}
	m.Metrics.Counter("camsd_graph_attempts_total", "Requests sent to the Graph API, retries included.", stat(func(s graph.Stats) int64 { return s.Attempts }))
	m.Metrics.Counter("camsd_graph_retries_total", "Graph API requests that were retries.", stat(func(s graph.Stats) int64 { return s.Retries }))
	m.Metrics.Counter("camsd_graph_failures_total", "Graph API calls that failed.", stat(func(s graph.Stats) int64 { return s.Failures }))
	m.Metrics.Counter("camsd_graph_rejected_total", "Graph API calls refused at once by the open circuit breaker.", stat(func(s graph.Stats) int64 { return s.Rejected }))
	m.Metrics.Gauge("camsd_graph_breaker_open", "1 while the circuit breaker in front of the Graph API is open.", func() float64 {
		if c.Stats().Breaker == graph.BreakerOpen {
			return 1
		}
		return 0
	})
	m.logger.Info("provider: WhatsApp Graph API", "url", m.Config.GraphURL, "version", m.Config.GraphVersion, "timeout", m.Config.GraphTimeout.String())
	return m.Metrics.Upstream(&graph.Upstream{Client: c})
}

// simHandler serves the simulator's outbox and page, only when the simulator sends codes.
func (m *Main) simHandler(hub *sim.Hub) http.Handler {
	if m.Config.Provider != "sim" {
		return nil
	}
	return sim.LiveHandler(m.DB, hub, sim.Streams{Max: m.Config.MaxEventStreams})
}

// openAdmin serves the admin API on its own listener, only when a token is configured: an
// admin API is never open with a default.
func (m *Main) openAdmin(flow *migration.Service) error {
	if m.Config.AdminToken == "" {
		m.logger.Info("admin API off: CAMSD_ADMIN_TOKEN is not set")
		return nil
	}
	if err := checkAdminToken(m.Config.AdminToken); err != nil {
		return err
	}
	ln, url, err := m.listen(m.Config.AdminListen, m.Config.AdminTLSCert, m.Config.AdminTLSKey)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	m.AdminURL = url
	a := &admin.Server{Store: m.DB, Migration: flow, Token: m.Config.AdminToken, Logger: m.logger}
	m.AdminHTTP = &http.Server{
		Handler:           m.withMetrics(a.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: an admin call may run long (a large audit, re-sealing secrets).
		ErrorLog: slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	go func() { _ = m.AdminHTTP.Serve(ln) }()
	m.logger.Info("admin API serving", "url", m.AdminURL)
	return nil
}

// Close drains in-flight requests (up to 10 s) and closes the database.
func (m *Main) Close() error {
	m.stopReloads()
	var errs []error
	if m.AdminHTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.AdminHTTP.Shutdown(ctx))
		cancel()
	}
	errs = append(errs, m.closeMetrics())
	if m.HTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.HTTP.Shutdown(ctx))
		cancel()
	} else if m.ln != nil {
		errs = append(errs, m.ln.Close())
	}
	if m.redis != nil {
		errs = append(errs, m.redis.Close())
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	return errors.Join(errs...)
}

func (m *Main) applySeed(ctx context.Context) error {
	if m.Config.Seed == "" {
		return nil
	}
	s, err := seed.Load(m.Config.Seed)
	if err != nil {
		return err
	}
	// A large seed goes in chunks, with a progress line after each: applying is idempotent,
	// so a start that stops half way finishes at the next start.
	start, total := time.Now(), len(s.Accounts)
	for done := 0; ; {
		n := min(seedChunk, total-done)
		chunk := &camsd.Seed{Accounts: s.Accounts[done : done+n]}
		if err := m.DB.ApplySeed(ctx, chunk); err != nil {
			return fmt.Errorf("apply seed %s: %w", m.Config.Seed, err)
		}
		done += n
		if total > seedChunk {
			m.logger.Info("seeding", "file", m.Config.Seed, "accounts_done", done, "accounts", total,
				"percent", done*100/total, "elapsed_ms", time.Since(start).Milliseconds())
		}
		if done >= total {
			break
		}
	}
	m.logger.Info("seed applied", "file", m.Config.Seed, "accounts", total)
	return nil
}

// seedChunk is how many accounts of a seed go in one transaction.
const seedChunk = 500

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

var _ camsd.Store = (*sqlite.DB)(nil)

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
	"github.com/camsd/camsd/httpapi"
	"github.com/camsd/camsd/metrics"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/ratelimit"
	"github.com/camsd/camsd/seed"
	"github.com/camsd/camsd/sim"
	"github.com/camsd/camsd/sqlite"
)

// Main is one running camsd. Tests start it on 127.0.0.1:0 and read URL.
type Main struct {
	Config ServeConfig
	Now    func() time.Time // the server's clock; nil means time.Now

	DB   *sqlite.DB
	URL  string // http://host:port once Open returned
	HTTP *http.Server

	Metrics *metrics.Metrics

	AdminURL  string // http://host:port of the admin API; empty when it is off
	AdminHTTP *http.Server

	stdout, stderr io.Writer
	logger         *slog.Logger
	ln             net.Listener
	served         chan error
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

	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return err
	}
	m.DB = sqlite.NewDB(filepath.Join(m.Config.DataDir, "camsd.db"))
	m.DB.Now = now
	m.DB.MaxNonces = m.Config.MaxNonces
	if err := m.DB.Open(); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	if err := m.applySeed(ctx); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return err
	}
	m.ln = ln
	m.URL = "http://" + ln.Addr().String()
	if err := m.ensureDemo(ctx); err != nil {
		return err
	}

	limiter := ratelimit.New()
	limiter.Now = now
	hub := &sim.Hub{} // the simulator's page hears of each captured message
	m.Metrics = metrics.New()
	m.Metrics.Gauge("camsd_nonces", "Signature nonces the nonce store remembers.", func() float64 { return float64(m.DB.NonceCount()) })
	flow := &migration.Service{
		Store:          m.DB,
		Provider:       m.Metrics.Provider(&sim.Provider{Outbox: m.DB, Keep: m.Config.SimRetention, Now: now, Hub: hub}),
		Now:            now,
		CodeTTL:        m.Config.CodeTTL,
		ResendInterval: m.Config.ResendInterval,

		VerificationValidity: m.Config.Validity,
		MaxCheckAttempts:     m.Config.MaxAttempts,
	}
	srv := &httpapi.Server{
		Auth: &acs.Authenticator{
			Versions: map[string]bool{httpapi.Version: true},
			Actions:  httpapi.KnownAction,
			Keys:     m.DB,
			Nonces:   m.DB,
			MaxSkew:  m.Config.MaxSkew,
			Now:      now,
		},
		Limiter:   limiter,
		Store:     m.DB,
		Migration: flow,
		Sim:       sim.LiveHandler(m.DB, hub),
		Metrics:   m.Metrics.Handler(),
		Observer:  m.Metrics,
		QPS:       m.Config.QPS,
		Logger:    m.logger,
		Now:       now,
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
	return m.openAdmin(flow)
}

// openAdmin serves the admin API on its own listener, only when a token is configured: an
// admin API is never open with a default.
func (m *Main) openAdmin(flow *migration.Service) error {
	if m.Config.AdminToken == "" {
		m.logger.Info("admin API off: CAMSD_ADMIN_TOKEN is not set")
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.AdminListen)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	m.AdminURL = "http://" + ln.Addr().String()
	a := &admin.Server{Store: m.DB, Migration: flow, Token: m.Config.AdminToken, Logger: m.logger}
	m.AdminHTTP = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	go func() { _ = m.AdminHTTP.Serve(ln) }()
	m.logger.Info("admin API serving", "url", m.AdminURL)
	return nil
}

// Close drains in-flight requests (up to 10 s) and closes the database.
func (m *Main) Close() error {
	var errs []error
	if m.AdminHTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.AdminHTTP.Shutdown(ctx))
		cancel()
	}
	if m.HTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.HTTP.Shutdown(ctx))
		cancel()
	} else if m.ln != nil {
		errs = append(errs, m.ln.Close())
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

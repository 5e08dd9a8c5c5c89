package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// /metrics names the Go version, counts per error code and per action, and the nonce store's
// size: of use to an operator, not to the strangers who reach the public listener. It is
// served on the admin listener (where a scraper needs no admin token: giving Prometheus the
// token would give it the tenants too) or, with --metrics-listen, on a listener of its own,
// for deployments that keep the admin API off (tenants from a seed) and still want metrics.

// withMetrics serves GET /metrics beside h, without h's token, when metrics have no listener
// of their own.
func (m *Main) withMetrics(h http.Handler) http.Handler {
	if m.Config.MetricsListen != "" {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Metrics.Handler())
	mux.Handle("/", h)
	return mux
}

// openMetrics serves /metrics on --metrics-listen, or says where it is served; it runs after
// openAdmin.
func (m *Main) openMetrics() error {
	switch {
	case m.Config.MetricsListen == "" && m.AdminURL != "":
		m.MetricsURL = m.AdminURL + "/metrics"
	case m.Config.MetricsListen == "":
		m.logger.Info("metrics off: no admin API (CAMSD_ADMIN_TOKEN) and no --metrics-listen")
		return nil
	default:
		ln, err := net.Listen("tcp", m.Config.MetricsListen)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Metrics.Handler())
		m.metricsHTTP = &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
		}
		go func() { _ = m.metricsHTTP.Serve(ln) }()
		m.MetricsURL = "http://" + ln.Addr().String() + "/metrics"
	}
	m.logger.Info("metrics serving", "url", m.MetricsURL)
	return nil
}

// closeMetrics stops the metrics listener, if it has one.
func (m *Main) closeMetrics() error {
	if m.metricsHTTP == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.metricsHTTP.Shutdown(ctx)
}

// Package metrics is camsd's Prometheus instrumentation: requests by action and Code, their
// latency, flow-control rejections, provider sends and failures, and gauges such as the
// nonce store's size. It has its own registry, so that tests and several servers in one
// process do not collide.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/camsd/camsd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds camsd's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	limited  *prometheus.CounterVec
	retries  *prometheus.CounterVec
	sends    *prometheus.CounterVec
}

// New returns Metrics registered on a new registry, with the Go runtime's and the process's
// collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "camsd_requests_total",
			Help: "API requests answered, by action and wire Code.",
		}, []string{"action", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "camsd_request_duration_seconds",
			Help:    "Time from a request's arrival to its reply, by action.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"action"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "camsd_flow_control_rejections_total",
			Help: "Calls refused by flow control (System.LimitControl), by action.",
		}, []string{"action"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "camsd_request_retries_total",
			Help: "Requests that clients marked as retries of a call (x-acs-retry-attempts > 0), by action.",
		}, []string{"action"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "camsd_provider_sends_total",
			Help: "Verification codes handed to the provider, by method and outcome (sent or failed).",
		}, []string{"method", "outcome"}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.limited, m.retries, m.sends,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveRequest counts one answered request, and among retries those whose client said it
// was repeating a call (retry > 0). action is "" for a request whose action is not served
// (it is counted as "unknown", so that callers cannot grow the label set).
func (m *Metrics) ObserveRequest(action, code string, retry int, d time.Duration) {
	if action == "" {
		action = "unknown"
	}
	m.requests.WithLabelValues(action, code).Inc()
	m.latency.WithLabelValues(action).Observe(d.Seconds())
	if code == camsd.CodeSystemLimitControl {
		m.limited.WithLabelValues(action).Inc()
	}
	if retry > 0 {
		m.retries.WithLabelValues(action).Inc()
	}
}

// Gauge registers a gauge whose value f gives at each scrape.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Counter registers a counter whose value f gives at each scrape (for counts another package
// keeps, such as fallbacks).
func (m *Metrics) Counter(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// Provider returns next, counting each send and its outcome.
func (m *Metrics) Provider(next camsd.Provider) camsd.Provider {
	p := &provider{next: next, sends: m.sends}
	if rec, ok := next.(camsd.Recorder); ok {
		return &recorder{provider: p, rec: rec}
	}
	return p
}

// recorder is provider for a camsd.Recorder: a message recorded with its code counts as a
// send, made or failed, like one delivered by SendCode.
type recorder struct {
	*provider
	rec camsd.Recorder
}

func (r *recorder) RecordsIn(o camsd.Outbox) bool { return r.rec.RecordsIn(o) }

func (r *recorder) Record(m camsd.CodeMessage) (camsd.Message, int) { return r.rec.Record(m) }

func (r *recorder) Recorded(msg camsd.Message, err error) {
	r.rec.Recorded(msg, err)
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	r.sends.WithLabelValues(msg.Method, outcome).Inc()
}

type provider struct {
	next  camsd.Provider
	sends *prometheus.CounterVec
}

func (p *provider) SendCode(ctx context.Context, call *camsd.Call, msg camsd.CodeMessage) error {
	err := p.next.SendCode(ctx, call, msg)
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	p.sends.WithLabelValues(msg.Method, outcome).Inc()
	return err
}

// Upstream returns next, counting each code the platform was asked to send as a provider
// send, like Provider does for the simulator.
func (m *Metrics) Upstream(next camsd.Upstream) camsd.Upstream {
	return &upstream{Upstream: next, sends: m.sends}
}

type upstream struct {
	camsd.Upstream
	sends *prometheus.CounterVec
}

func (u *upstream) RequestCode(ctx context.Context, phoneNumberID, method, locale string) error {
	err := u.Upstream.RequestCode(ctx, phoneNumberID, method, locale)
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	u.sends.WithLabelValues(method, outcome).Inc()
	return err
}

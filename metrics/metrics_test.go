package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/metrics"
)

type provider struct{ err error }

func (p provider) SendCode(context.Context, *camsd.Call, camsd.CodeMessage) error { return p.err }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("GetMigrationVerifyCode", "OK", 0, 3*time.Millisecond)
	m.ObserveRequest("GetMigrationVerifyCode", "System.LimitControl", 0, time.Millisecond)
	m.ObserveRequest("GetMigrationVerifyCode", "System.LimitControl", 1, time.Millisecond)
	m.ObserveRequest("", "InvalidAction.NotFound", 2, time.Millisecond)
	ok, bad := m.Provider(provider{}), m.Provider(provider{errors.New("down")})
	_ = ok.SendCode(context.Background(), nil, camsd.CodeMessage{Method: "sms"})
	_ = bad.SendCode(context.Background(), nil, camsd.CodeMessage{Method: "voice"})
	m.Gauge("camsd_nonces", "Nonces remembered.", func() float64 { return 42 })

	out := scrape(t, m)
	for _, want := range []string{
		`camsd_requests_total{action="GetMigrationVerifyCode",code="OK"} 1`,
		`camsd_requests_total{action="GetMigrationVerifyCode",code="System.LimitControl"} 2`,
		`camsd_requests_total{action="unknown",code="InvalidAction.NotFound"} 1`,
		`camsd_flow_control_rejections_total{action="GetMigrationVerifyCode"} 2`,
		`camsd_request_retries_total{action="GetMigrationVerifyCode"} 1`,
		`camsd_request_retries_total{action="unknown"} 1`,
		`camsd_request_duration_seconds_bucket{action="GetMigrationVerifyCode",le="0.005"} 3`,
		`camsd_request_duration_seconds_count{action="GetMigrationVerifyCode"} 3`,
		`camsd_provider_sends_total{method="sms",outcome="sent"} 1`,
		`camsd_provider_sends_total{method="voice",outcome="failed"} 1`,
		`camsd_nonces 42`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

// recorderProvider records its messages in an outbox (as the simulator does).
type recorderProvider struct {
	provider
	told []error
}

func (*recorderProvider) RecordsIn(camsd.Outbox) bool { return true }
func (*recorderProvider) Record(m camsd.CodeMessage) (camsd.Message, int) {
	return camsd.Message{Method: m.Method, Code: m.Code}, 7
}
func (r *recorderProvider) Recorded(_ camsd.Message, err error) { r.told = append(r.told, err) }

// A Recorder stays one through the metrics, and its messages, recorded with their codes,
// count as sends: made or failed.
func TestMetrics_recorder(t *testing.T) {
	m := metrics.New()
	inner := &recorderProvider{}
	rec, ok := m.Provider(inner).(camsd.Recorder)
	if !ok {
		t.Fatal("the metrics' Provider hides the Recorder")
	}
	if msg, keep := rec.Record(camsd.CodeMessage{Method: "sms", Code: "123456"}); msg.Code != "123456" || keep != 7 {
		t.Errorf("Record = %+v, %d", msg, keep)
	}
	rec.Recorded(camsd.Message{Method: "sms"}, nil)
	rec.Recorded(camsd.Message{Method: "sms"}, nil)
	rec.Recorded(camsd.Message{Method: "voice"}, errors.New("disk full"))
	if len(inner.told) != 3 || inner.told[2] == nil {
		t.Errorf("the recorder was told %v", inner.told)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`camsd_provider_sends_total{method="sms",outcome="sent"} 2`,
		`camsd_provider_sends_total{method="voice",outcome="failed"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/camsd/camsd/acs"
)

// logRecord is what one request's log line says. Secrets and codes are never in it.
type logRecord struct {
	RequestID   string
	Action      string
	Account     string
	AccessKeyID string
	Code        string
	Retry       acs.Retry // what the client said of a repeated call
	Err         error     // only for InternalError: the text the client never sees
}

func (s *Server) logRequest(r *http.Request, rec *logRecord, d time.Duration) {
	attrs := []slog.Attr{
		slog.String("request_id", rec.RequestID),
		slog.String("method", r.Method),
		slog.String("action", rec.Action),
		slog.String("account", rec.Account),
		slog.String("access_key_id", rec.AccessKeyID),
		slog.String("code", rec.Code),
		slog.Float64("latency_ms", float64(d.Microseconds())/1000),
	}
	if rec.Retry.Attempt > 0 {
		// A retry storm shows as many lines with these: which retry, after how long.
		attrs = append(attrs, slog.Int("retry_attempt", rec.Retry.Attempt))
		if rec.Retry.Delay >= 0 {
			attrs = append(attrs, slog.Int64("retry_delay", rec.Retry.Delay))
		}
	}
	level := slog.LevelInfo
	if rec.Err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("err", rec.Err.Error()))
	}
	s.logger().LogAttrs(r.Context(), level, "request", attrs...)
}

package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/acs"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/sts"
)

// Version is CAMS's API version; STS's is sts.Version (see KnownAction).
const Version = "2020-06-06"

// Server serves the CAMS API. Fields are collaborators, set before Handler is called.
type Server struct {
	Auth      *acs.Authenticator
	Limiter   camsd.Limiter
	Store     camsd.Store
	Migration *migration.Service
	STS       *sts.Service // serves AssumeRole; nil: STS is not served
	Sim       http.Handler // the simulator's routes under /_sim/; nil when another provider runs
	Observer  Observer     // told of every answered request; nil: nobody

	// ReadyChecks are what /readyz asks besides the store, by name (Redis, say).
	ReadyChecks map[string]func(context.Context) error

	QPS    int // default per-account, per-action limit
	Logger *slog.Logger
	Now    func() time.Time

	policies policyCache
	tracker  camsd.Tracker // Store, when it is one (Handler)
}

// Observer is told of every answered API request: its action ("" when camsd does not serve
// it), its wire Code, which retry of a call it was by the client's x-acs-retry-attempts (0:
// a first attempt) and how long it took.
type Observer interface {
	ObserveRequest(action, code string, retry int, d time.Duration)
}

// maxBody bounds what one call may send; CAMS parameters are a few hundred bytes.
const maxBody = 1 << 20

// Handler returns the root handler.
func (s *Server) Handler() http.Handler {
	if s.Auth != nil && s.Auth.Admission == nil {
		s.Auth.Admission = s.admission // a nonce store that can makes the decision with the nonce
	}
	s.tracker, _ = s.Store.(camsd.Tracker)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.Sim != nil {
		mux.Handle("/_sim/", s.Sim)
	}
	mux.Handle("/", http.HandlerFunc(s.serveAPI))
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Store.Ping(ctx); err != nil {
		s.logger().Warn("readyz: database does not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unavailable\n"))
		return
	}
	for name, check := range s.ReadyChecks {
		if err := check(ctx); err != nil {
			s.logger().Warn("readyz: "+name+" does not answer", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(name + " unavailable\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

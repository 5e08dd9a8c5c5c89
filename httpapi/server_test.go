package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestServer_Health: /healthz answers while serving; /readyz only while the database answers.
func TestServer_Health(t *testing.T) {
	for _, tc := range []struct {
		name    string
		path    string
		pingErr error
		status  int
	}{
		{"healthz", "/healthz", nil, http.StatusOK},
		{"healthz without a database", "/healthz", errors.New("database is closed"), http.StatusOK},
		{"readyz", "/readyz", nil, http.StatusOK},
		{"readyz without a database", "/readyz", errors.New("database is closed"), http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			pinged := 0
			f.store.PingFn = func(context.Context) error { pinged++; return tc.pingErr }
			rec := httptest.NewRecorder()
			f.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.status {
				t.Errorf("GET %s: HTTP %d, want %d (%s)", tc.path, rec.Code, tc.status, rec.Body)
			}
			if tc.path == "/readyz" && pinged != 1 {
				t.Errorf("readyz pinged the store %d times, want 1", pinged)
			}
		})
	}
}

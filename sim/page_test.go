package sim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/camsd/camsd/sim"
)

func TestHandler_page(t *testing.T) {
	h := sim.Handler(&fakeOutbox{})
	do := func(method, target string, header http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	t.Run("files", func(t *testing.T) {
		for _, tc := range []struct {
			path, contentType, contains string
		}{
			{"/_sim/", "text/html; charset=utf-8", `<ol id="messages"`},
			{"/_sim/app.js", "text/javascript; charset=utf-8", "new EventSource('events')"},
			{"/_sim/style.css", "text/css; charset=utf-8", ".code {"},
		} {
			rec := do(http.MethodGet, tc.path, nil)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != tc.contentType {
				t.Errorf("GET %s: %d %q, want 200 %q", tc.path, rec.Code, rec.Header().Get("Content-Type"), tc.contentType)
			}
			if !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("GET %s: body does not contain %q", tc.path, tc.contains)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: no X-Content-Type-Options: nosniff", tc.path)
			}

			etag := rec.Header().Get("ETag")
			if rec := do(http.MethodGet, tc.path, http.Header{"If-None-Match": {etag}}); etag == "" || rec.Code != http.StatusNotModified {
				t.Errorf("GET %s with If-None-Match %s: %d, want 304", tc.path, etag, rec.Code)
			}
			if rec := do(http.MethodHead, tc.path, nil); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
				t.Errorf("HEAD %s: %d with %d body bytes", tc.path, rec.Code, rec.Body.Len())
			}
		}
	})

	t.Run("/_sim redirects to the page, keeping the filter", func(t *testing.T) {
		for target, want := range map[string]string{
			"/_sim":                  "/_sim/",
			"/_sim?PhoneNumber=8613": "/_sim/?PhoneNumber=8613",
		} {
			rec := do(http.MethodGet, target, nil)
			if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != want {
				t.Errorf("GET %s: %d to %q, want 301 to %q", target, rec.Code, rec.Header().Get("Location"), want)
			}
		}
	})

	t.Run("errors are JSON", func(t *testing.T) {
		for _, tc := range []struct {
			method, target string
			status         int
		}{
			{http.MethodPost, "/_sim/", http.StatusMethodNotAllowed},
			{http.MethodPost, "/_sim", http.StatusMethodNotAllowed},
			{http.MethodGet, "/_sim/index.html", http.StatusNotFound},
			{http.MethodGet, "/_sim/web/app.js", http.StatusNotFound},
		} {
			rec := do(tc.method, tc.target, nil)
			if rec.Code != tc.status || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("%s %s: %d %q, want %d application/json", tc.method, tc.target, rec.Code, rec.Header().Get("Content-Type"), tc.status)
			}
		}
	})
}

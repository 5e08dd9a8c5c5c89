package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/acs"
)

// TestServer_CatalogueMessages: a refusal that says no more than its Code carries the
// catalogue's message (acs/catalog.go), whichever package refused: httpapi and migration name
// the code, not a text of their own.
func TestServer_CatalogueMessages(t *testing.T) {
	refuse := func(f *fixture) {
		f.limiter.AllowFn = func(context.Context, string, int) (camsd.Decision, error) {
			return camsd.Decision{RetryAfter: 250 * time.Millisecond, At: f.now}, nil
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(*fixture)
		req   func(*fixture) *http.Request
		code  string
	}{
		{"method", nil, func(*fixture) *http.Request { return httptest.NewRequest(http.MethodPut, "/", nil) }, camsd.CodeUnsupportedHTTPMethod},
		{"flow control", refuse, func(f *fixture) *http.Request { return f.get(acmeRoot, getVC()) }, camsd.CodeSystemLimitControl},
		{"subscription", nil, func(f *fixture) *http.Request { return f.get(unsubRoot, getVC()) }, camsd.CodeProductUnsubscript},
		{"RAM", nil, func(f *fixture) *http.Request { return f.get(acmeReader, getVC()) }, camsd.CodeRAMPermissionDeny},
		{"missing parameter", nil, func(f *fixture) *http.Request { return f.get(acmeRoot, getVC("Locale", "")) }, "MissingLocale"},
		{"another tenant's space", nil, func(f *fixture) *http.Request { return f.get(acmeRoot, getVC("CustSpaceId", "999999999")) }, camsd.CodeUnknownResourceOwnerID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			r := f.serve(t, tc.req(f))
			if r.Status != acs.Status(tc.code) || r.str("Code") != tc.code {
				t.Fatalf("HTTP %d %s, want HTTP %d %s\n%s", r.Status, r.str("Code"), acs.Status(tc.code), tc.code, r.Raw)
			}
			if got, want := r.str("Message"), acs.Message(tc.code); got != want || want == "" {
				t.Errorf("Message %q, want the catalogue's %q", got, want)
			}
		})
	}
}

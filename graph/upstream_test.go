package graph

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/graph/graphtest"
	"github.com/google/go-cmp/cmp"
)

var testSpace = camsd.Space{CustSpaceID: "cams-acme", WabaID: testWABA, Pin: "654321"}

// A new number's whole life on Graph, through camsd's Upstream: added with its display name,
// verified with the code Graph sent, registered, deregistered and registered again.
func TestUpstream_newNumber(t *testing.T) {
	g := newGraph(t)
	c, _ := newTestClient(t, g)
	u := &Upstream{Client: c}
	ctx := t.Context()
	const phone = "628111000222"

	id, err := u.AddNumber(ctx, testSpace, camsd.NewNumber{CountryCode: "62", Number: "8111000222", VerifiedName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if id != g.ID(phone) || g.VerifiedName(phone) != "Acme" {
		t.Errorf("id %q, Graph's %q named %q; want Graph's id and the name Acme", id, g.ID(phone), g.VerifiedName(phone))
	}
	if err := u.RequestCode(ctx, id, "sms", "en_US"); err != nil {
		t.Fatal(err)
	}
	if err := u.VerifyCode(ctx, id, g.LastCode(phone)); err != nil {
		t.Fatal(err)
	}
	if err := u.Register(ctx, testSpace, id); err != nil {
		t.Fatal(err)
	}
	if err := u.Deregister(ctx, id); err != nil {
		t.Fatalf("deregister: %v", err)
	}
	if g.Registered(phone) || g.Deregistrations(phone) != 1 {
		t.Errorf("after deregister: registered %v, %d deregistrations", g.Registered(phone), g.Deregistrations(phone))
	}
	if err := u.Register(ctx, testSpace, id); err != nil {
		t.Fatalf("register again: %v", err)
	}
	if !g.Registered(phone) || g.Registrations(phone) != 2 {
		t.Errorf("after registering again: registered %v, %d registrations", g.Registered(phone), g.Registrations(phone))
	}
}

func TestUpstream_AddNumber(t *testing.T) {
	tests := []struct {
		name string
		n    camsd.NewNumber
		form url.Values
	}{
		{"new", camsd.NewNumber{CountryCode: "62", Number: "8111000222", VerifiedName: "Acme"},
			url.Values{"cc": {"62"}, "phone_number": {"8111000222"}, "verified_name": {"Acme"}}},
		{"migration", camsd.NewNumber{CountryCode: "86", Number: "13900001234", Migrate: true},
			url.Values{"cc": {"86"}, "phone_number": {"13900001234"}, "migrate_phone_number": {"true"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t)
			c, _ := newTestClient(t, g)
			id, err := (&Upstream{Client: c}).AddNumber(t.Context(), testSpace, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if want := g.ID(tt.n.CountryCode + tt.n.Number); id != want {
				t.Errorf("id = %q, want Graph's %q", id, want)
			}
			want := []graphtest.Request{{Edge: "phone_numbers", Node: testWABA, ContentType: "application/x-www-form-urlencoded", Form: tt.form}}
			if diff := cmp.Diff(want, g.Requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("space without a WABA", func(t *testing.T) {
		g := newGraph(t)
		c, _ := newTestClient(t, g)
		_, err := (&Upstream{Client: c}).AddNumber(t.Context(), camsd.Space{CustSpaceID: "cams-acme"}, camsd.NewNumber{CountryCode: "62", Number: "8111000222", VerifiedName: "Acme"})
		if err == nil || len(g.Requests()) != 0 {
			t.Errorf("err = %v after %d requests, want a setup error before any", err, len(g.Requests()))
		}
	})
}

// Deregister answers nil, or the wire error of Graph's refusal; it is repeated only when
// Graph did not act (a throttled answer), as register is.
func TestUpstream_Deregister(t *testing.T) {
	tests := []struct {
		name     string
		faults   []graphtest.Fault
		want     string // wire code, "" for nil
		attempts int
	}{
		{"accepted", nil, "", 1},
		{"too many registrations", []graphtest.Fault{fail(400, 133016, 0, false, "(#133016) Registration or deregistration failed")}, camsd.CodePhoneNumberRegisterTooFreq, 1},
		{"not registered", []graphtest.Fault{fail(400, 133010, 0, false, "Account not registered")}, camsd.CodePhoneNumberNotRegistered, 1},
		{"throttled, then accepted", []graphtest.Fault{fail(400, 80007, 0, false, "Rate limit issues")}, "", 2},
		{"500", []graphtest.Fault{fail(http.StatusInternalServerError, 2, 0, true, "Service temporarily unavailable")}, camsd.CodeServiceUnavailable, 1},
		{"token", []graphtest.Fault{fail(http.StatusUnauthorized, 190, 0, false, "Invalid OAuth access token")}, camsd.CodeInternalError, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t)
			g.Fail("deregister", tt.faults...)
			c, log := newTestClient(t, g)
			err := (&Upstream{Client: c}).Deregister(t.Context(), testNumber)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
			} else {
				var we *camsd.Error
				if !errors.As(err, &we) || we.Code != tt.want {
					t.Errorf("err = %v, want a *camsd.Error with code %s", err, tt.want)
				}
			}
			if got, hits := log.count(), g.Hits("deregister"); got != tt.attempts || hits != tt.attempts {
				t.Errorf("attempts = %d, hits = %d, want %d", got, hits, tt.attempts)
			}
		})
	}
}

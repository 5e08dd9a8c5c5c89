package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/graph/graphtest"
	"github.com/google/go-cmp/cmp"
)

func TestClient_requests(t *testing.T) {
	tests := []struct {
		name string
		call func(ctx context.Context, c *Client) error
		want graphtest.Request
	}{
		{"AddPhoneNumber migration", calls[0].do, graphtest.Request{
			Edge: "phone_numbers", Node: testWABA, ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"cc": {"91"}, "phone_number": {"9880212323"}, "migrate_phone_number": {"true"}},
		}},
		{"AddPhoneNumber migration with a name", func(ctx context.Context, c *Client) error {
			_, err := c.AddPhoneNumber(ctx, testWABA, camsd.NewNumber{CountryCode: "91", Number: "9880212323", VerifiedName: "Acme", Migrate: true})
			return err
		}, graphtest.Request{
			Edge: "phone_numbers", Node: testWABA, ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"cc": {"91"}, "phone_number": {"9880212323"}, "verified_name": {"Acme"}, "migrate_phone_number": {"true"}},
		}},
		{"AddPhoneNumber new", func(ctx context.Context, c *Client) error {
			_, err := c.AddPhoneNumber(ctx, testWABA, camsd.NewNumber{CountryCode: "62", Number: "8111000222", VerifiedName: "Acme Café & Co"})
			return err
		}, graphtest.Request{
			Edge: "phone_numbers", Node: testWABA, ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"cc": {"62"}, "phone_number": {"8111000222"}, "verified_name": {"Acme Café & Co"}},
		}},
		{"RequestCode", func(ctx context.Context, c *Client) error {
			return c.RequestCode(ctx, testNumber, "voice", "zh_CN")
		}, graphtest.Request{
			Edge: "request_code", Node: testNumber, ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"code_method": {"VOICE"}, "language": {"zh_CN"}},
		}},
		{"VerifyCode", calls[2].do, graphtest.Request{
			Edge: "verify_code", Node: testNumber, ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"code": {"123456"}},
		}},
		{"Register", calls[3].do, graphtest.Request{
			Edge: "register", Node: testNumber, ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"messaging_product": {"whatsapp"}, "pin": {"654321"}},
		}},
		{"Deregister", calls[4].do, graphtest.Request{
			Edge: "deregister", Node: testNumber, ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t)
			c, log := newTestClient(t, g)
			if err := tt.call(t.Context(), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff([]graphtest.Request{tt.want}, g.Requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if got := log.count(); got != 1 {
				t.Errorf("attempts = %d, want 1", got)
			}
		})
	}
}

func TestClient_AddPhoneNumber(t *testing.T) {
	g := newGraph(t)
	c, _ := newTestClient(t, g)
	id, err := c.AddPhoneNumber(t.Context(), testWABA, camsd.NewNumber{CountryCode: "91", Number: "9880212323", Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := g.ID("919880212323"); id == "" || id != want {
		t.Errorf("id = %q, want Graph's %q", id, want)
	}

	t.Run("new number", func(t *testing.T) {
		id, err := c.AddPhoneNumber(t.Context(), testWABA, camsd.NewNumber{CountryCode: "62", Number: "8111000222", VerifiedName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		if want := g.ID("628111000222"); id == "" || id != want {
			t.Errorf("id = %q, want Graph's %q", id, want)
		}
		if got := g.VerifiedName("628111000222"); got != "Acme" {
			t.Errorf("Graph's verified name = %q, want Acme", got)
		}
	})
}

func TestClient_urls(t *testing.T) {
	t.Run("version and trailing slash", func(t *testing.T) {
		g := newGraphVersion(t, "v19.0")
		c, _ := newTestClient(t, g)
		c.BaseURL, c.Version = g.URL+"/", "v19.0"
		if err := c.VerifyCode(t.Context(), testNumber, "123456"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("node id is one path segment", func(t *testing.T) {
		g := newGraph(t)
		c, _ := newTestClient(t, g)
		err := c.VerifyCode(t.Context(), "1/../register", "123456")
		if got := wireCode(err); got != camsd.CodeInternalError {
			t.Errorf("code = %s (%v), want Graph's unknown path answered as InternalError", got, err)
		}
		if g.Hits("register") != 0 {
			t.Error("the id escaped its path segment")
		}
	})
}

func TestClient_emptyArguments(t *testing.T) {
	g := newGraph(t)
	c, log := newTestClient(t, g)
	errs := []error{
		c.RequestCode(t.Context(), "", "SMS", "en_US"),
		c.RequestCode(t.Context(), "1", "", "en_US"),
		c.RequestCode(t.Context(), "1", "SMS", ""),
		c.VerifyCode(t.Context(), "1", ""),
		c.Register(t.Context(), "1", ""),
		c.Deregister(t.Context(), ""),
	}
	for _, n := range []camsd.NewNumber{
		{CountryCode: "", Number: "9880212323", Migrate: true},
		{CountryCode: "91", Number: "", VerifiedName: "Acme"},
		{CountryCode: "91", Number: "9880212323"}, // a new number needs its display name
	} {
		_, err := c.AddPhoneNumber(t.Context(), "1", n)
		errs = append(errs, err)
	}
	_, err := c.AddPhoneNumber(t.Context(), "", camsd.NewNumber{CountryCode: "91", Number: "9880212323", Migrate: true})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("call %d: err = %v, want one naming the empty argument", i, err)
		}
	}
	if n := len(g.Requests()) + log.count(); n != 0 {
		t.Errorf("%d requests or attempts, want none", n)
	}
}

// No OK without Graph's yes: a 2xx that is not the documented answer is an error, and it is
// final (Graph answered).
func TestClient_unexpectedAnswer(t *testing.T) {
	tests := []struct {
		name  string
		edge  string
		fault graphtest.Fault
	}{
		{"success false", "request_code", raw(http.StatusOK, "application/json", `{"success":false}`)},
		{"empty object", "verify_code", raw(http.StatusOK, "application/json", `{}`)},
		{"html", "register", raw(http.StatusOK, "text/html", `<html>captive portal</html>`)},
		{"no id", "phone_numbers", raw(http.StatusOK, "application/json", `{"id":""}`)},
		{"success as a string", "deregister", raw(http.StatusOK, "application/json", `{"success":"true"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t)
			g.FailAll(tt.edge, tt.fault)
			c, log := newTestClient(t, g)
			err := do(t.Context(), c, tt.edge)
			if !errors.Is(err, ErrUnexpectedAnswer) {
				t.Errorf("err = %v, want ErrUnexpectedAnswer", err)
			}
			if got := wireCode(err); got != camsd.CodeInternalError {
				t.Errorf("wire code = %s, want InternalError", got)
			}
			if got := log.count(); got != 1 {
				t.Errorf("attempts = %d, want 1", got)
			}
		})
	}
}

// The token goes in the Authorization header only, and never into an error, even when Graph
// echoes it.
func TestClient_tokenNeverInErrors(t *testing.T) {
	g := newGraph(t)
	g.FailAll("verify_code", fail(http.StatusBadRequest, 190, 463, false, "Error validating access token "+testToken+": Session has expired"))
	g.FailAll("request_code", fail(http.StatusBadRequest, 136024, 0, false, "cannot send with "+testToken))
	c, _ := newTestClient(t, g)

	var errs []error
	errs = append(errs, c.VerifyCode(t.Context(), "1", "123456"), c.RequestCode(t.Context(), "1", "SMS", "en_US"))
	wrong, _ := newTestClient(t, g)
	wrong.Token = "EAAGwrong0token"
	errs = append(errs, wrong.Register(t.Context(), "1", "654321"))
	down := &Client{BaseURL: closedURL(t), Token: testToken, Backoff: -1}
	errs = append(errs, down.Register(t.Context(), "1", "654321"))

	for i, err := range errs {
		if err == nil {
			t.Fatalf("error %d is nil", i)
		}
		for _, text := range []string{err.Error(), WireError(err).Message} {
			if strings.Contains(text, testToken) || strings.Contains(text, "EAAGwrong0token") {
				t.Errorf("error %d leaks the token: %s", i, text)
			}
		}
	}
	var ge *Error
	if !errors.As(errs[2], &ge) || ge.Code != 190 {
		t.Errorf("wrong token: err = %v, want Graph's 190", errs[2])
	}
}

// Without an http.Client of its own the Client does not follow redirects: a redirected POST
// would become a GET without its body.
func TestClient_defaultHTTPClient(t *testing.T) {
	g := newGraph(t)
	c := &Client{BaseURL: g.URL, Token: testToken}
	if err := c.VerifyCode(t.Context(), testNumber, "123456"); err != nil {
		t.Fatalf("call: %v", err)
	}
	g.FailAll("register", graphtest.Fault{Status: http.StatusFound, Header: http.Header{"Location": {"/v21.0/1/verify_code"}}})
	err := c.Register(t.Context(), testNumber, "654321")
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != http.StatusFound {
		t.Errorf("err = %v, want the 302 itself", err)
	}
	if got := g.Hits("verify_code"); got != 1 {
		t.Errorf("verify_code hits = %d, want 1: the redirect was followed", got)
	}
}

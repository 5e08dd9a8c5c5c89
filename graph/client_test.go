package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

func TestClient_requests(t *testing.T) {
	tests := []struct {
		name string
		call func(ctx context.Context, c *Client) error
		want graphRequest
	}{
		{"AddPhoneNumber", calls[0].do, graphRequest{
			Edge: "phone_numbers", Node: "102290129340398", ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"cc": {"91"}, "phone_number": {"9880212323"}, "migrate_phone_number": {"true"}},
		}},
		{"RequestCode", func(ctx context.Context, c *Client) error {
			return c.RequestCode(ctx, "106540352242922", "voice", "zh_CN")
		}, graphRequest{
			Edge: "request_code", Node: "106540352242922", ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"code_method": {"VOICE"}, "language": {"zh_CN"}},
		}},
		{"VerifyCode", calls[2].do, graphRequest{
			Edge: "verify_code", Node: "106540352242922", ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"code": {"123456"}},
		}},
		{"Register", calls[3].do, graphRequest{
			Edge: "register", Node: "106540352242922", ContentType: "application/x-www-form-urlencoded",
			Form: url.Values{"messaging_product": {"whatsapp"}, "pin": {"654321"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			c, log := newTestClient(t, f)
			if err := tt.call(t.Context(), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff([]graphRequest{tt.want}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if got := log.count(); got != 1 {
				t.Errorf("attempts = %d, want 1", got)
			}
		})
	}
}

func TestClient_AddPhoneNumber(t *testing.T) {
	f := newFakeGraph(t)
	c, _ := newTestClient(t, f)
	id, err := c.AddPhoneNumber(t.Context(), "102290129340398", "91", "9880212323")
	if err != nil {
		t.Fatal(err)
	}
	if id != "106540352242922" {
		t.Errorf("id = %q, want Graph's 106540352242922", id)
	}
}

func TestClient_urls(t *testing.T) {
	f := newFakeGraph(t)
	t.Run("version and trailing slash", func(t *testing.T) {
		c, _ := newTestClient(t, f)
		c.BaseURL, c.Version = f.srv.URL+"/", "v19.0"
		if err := c.VerifyCode(t.Context(), "106540352242922", "123456"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("node id is one path segment", func(t *testing.T) {
		c, _ := newTestClient(t, f)
		err := c.VerifyCode(t.Context(), "1/../register", "123456")
		if got := wireCode(err); got != camsd.CodeInternalError {
			t.Errorf("code = %s (%v), want Graph's unknown path answered as InternalError", got, err)
		}
		if f.hits("register") != 0 {
			t.Error("the id escaped its path segment")
		}
	})
}

func TestClient_emptyArguments(t *testing.T) {
	f := newFakeGraph(t)
	c, log := newTestClient(t, f)
	errs := []error{
		c.RequestCode(t.Context(), "", "SMS", "en_US"),
		c.RequestCode(t.Context(), "1", "", "en_US"),
		c.RequestCode(t.Context(), "1", "SMS", ""),
		c.VerifyCode(t.Context(), "1", ""),
		c.Register(t.Context(), "1", ""),
	}
	_, err := c.AddPhoneNumber(t.Context(), "1", "", "9880212323")
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("call %d: err = %v, want one naming the empty argument", i, err)
		}
	}
	if n := len(f.requests()) + log.count(); n != 0 {
		t.Errorf("%d requests or attempts, want none", n)
	}
}

// No OK without Graph's yes: a 2xx that is not the documented answer is an error, and it is
// final (Graph answered).
func TestClient_unexpectedAnswer(t *testing.T) {
	tests := []struct {
		name string
		edge string
		step step
	}{
		{"success false", "request_code", raw(http.StatusOK, "application/json", `{"success":false}`)},
		{"empty object", "verify_code", raw(http.StatusOK, "application/json", `{}`)},
		{"html", "register", raw(http.StatusOK, "text/html", `<html>captive portal</html>`)},
		{"no id", "phone_numbers", raw(http.StatusOK, "application/json", `{"id":""}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on(tt.edge, tt.step)
			c, log := newTestClient(t, f)
			var err error
			for _, call := range calls {
				if call.edge == tt.edge {
					err = call.do(t.Context(), c)
				}
			}
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
	f := newFakeGraph(t)
	f.on("verify_code", fail(http.StatusBadRequest, 190, 463, false, "Error validating access token "+testToken+": Session has expired"))
	f.on("request_code", fail(http.StatusBadRequest, 136024, 0, false, "cannot send with "+testToken))
	c, _ := newTestClient(t, f)

	var errs []error
	errs = append(errs, c.VerifyCode(t.Context(), "1", "123456"), c.RequestCode(t.Context(), "1", "SMS", "en_US"))
	wrong, _ := newTestClient(t, f)
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
	f := newFakeGraph(t)
	c := &Client{BaseURL: f.srv.URL, Token: testToken}
	if err := c.VerifyCode(t.Context(), "106540352242922", "123456"); err != nil {
		t.Fatalf("call: %v", err)
	}
	f.on("register", func(_ *fakeGraph, w http.ResponseWriter, r *http.Request, _ string) {
		http.Redirect(w, r, "/v21.0/1/verify_code", http.StatusFound)
	})
	err := c.Register(t.Context(), "106540352242922", "654321")
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != http.StatusFound {
		t.Errorf("err = %v, want the 302 itself", err)
	}
	if got := f.hits("verify_code"); got != 1 {
		t.Errorf("verify_code hits = %d, want 1: the redirect was followed", got)
	}
}

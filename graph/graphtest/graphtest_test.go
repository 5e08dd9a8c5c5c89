package graphtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd/graph/graphtest"
)

const token = "EAAGtest"

// post sends form to edge of node as Graph's clients do and returns the status and body.
func post(t *testing.T, s *graphtest.Server, node, edge string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/"+s.Version+"/"+node+"/"+edge, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: body: %v", edge, err)
	}
	return resp.StatusCode, body
}

func newServer(t *testing.T) *graphtest.Server {
	s := graphtest.New(token, "v21.0")
	t.Cleanup(s.Close)
	return s
}

// errorCode is the code of Graph's error body, 0 when it is not one.
func errorCode(body map[string]any) int {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(float64)
	return int(code)
}

func TestServer_addNumber(t *testing.T) {
	s := newServer(t)
	const waba = "102290129340398"
	newNumber := url.Values{"cc": {"62"}, "phone_number": {"8111000222"}, "verified_name": {"Acme"}}

	t.Run("a new number needs its verified_name", func(t *testing.T) {
		status, body := post(t, s, waba, graphtest.PhoneNumbers, url.Values{"cc": {"62"}, "phone_number": {"8111000222"}})
		e, _ := body["error"].(map[string]any)
		if status != http.StatusBadRequest || errorCode(body) != 100 || !strings.Contains(e["message"].(string), "verified_name") || e["fbtrace_id"] != graphtest.TraceID {
			t.Errorf("%d %v, want Graph's 400 with code 100 naming verified_name", status, body)
		}
		if s.ID("628111000222") != "" {
			t.Error("a refused number was added")
		}
	})
	var id string
	t.Run("added", func(t *testing.T) {
		status, body := post(t, s, waba, graphtest.PhoneNumbers, newNumber)
		id, _ = body["id"].(string)
		if status != http.StatusOK || id == "" || id != s.ID("628111000222") || s.VerifiedName("628111000222") != "Acme" {
			t.Errorf("%d %v; fake holds id %q named %q", status, body, s.ID("628111000222"), s.VerifiedName("628111000222"))
		}
	})
	t.Run("added again: the same id, nothing changed", func(t *testing.T) {
		post(t, s, id, graphtest.RequestCode, url.Values{"code_method": {"SMS"}, "language": {"en_US"}})
		code := s.LastCode("628111000222")
		_, body := post(t, s, waba, graphtest.PhoneNumbers, newNumber)
		if body["id"] != id || s.LastCode("628111000222") != code || code == "" {
			t.Errorf("%v, code %q then %q; want %s and the code still waiting", body, code, s.LastCode("628111000222"), id)
		}
	})
}

// Deregistering answers success whether the number is registered or not, and counts.
func TestServer_deregister(t *testing.T) {
	s := newServer(t)
	s.Put(graphtest.Number{ID: "1065", WABA: "1022", Phone: "628111000222", Verified: true})
	for i, wasRegistered := range []bool{false, true} {
		if wasRegistered {
			if status, body := post(t, s, "1065", graphtest.Register, url.Values{"messaging_product": {"whatsapp"}, "pin": {"654321"}}); status != http.StatusOK {
				t.Fatalf("register: %d %v", status, body)
			}
		}
		status, body := post(t, s, "1065", graphtest.Deregister, nil)
		if status != http.StatusOK || body["success"] != true {
			t.Errorf("registered %v: %d %v, want {\"success\":true}", wasRegistered, status, body)
		}
		if s.Registered("628111000222") || s.Deregistrations("628111000222") != i+1 {
			t.Errorf("registered %v: now registered %v after %d deregistrations", wasRegistered, s.Registered("628111000222"), s.Deregistrations("628111000222"))
		}
	}
	if status, body := post(t, s, "999", graphtest.Deregister, nil); status != http.StatusBadRequest || errorCode(body) != 100 {
		t.Errorf("unknown id: %d %v, want Graph's 100", status, body)
	}
}

// Fail's faults answer first, in order, then FailAll's until Clear, then the edge's work.
func TestServer_faults(t *testing.T) {
	s := newServer(t)
	s.Put(graphtest.Number{ID: "1065", WABA: "1022", Phone: "628111000222"})
	s.Fail(graphtest.Deregister, graphtest.Fault{Code: 133016}, graphtest.Fault{Status: 503, Code: 133004})
	s.FailAll(graphtest.Deregister, graphtest.Fault{Code: 80007, Header: http.Header{"Retry-After": {"7"}}})
	var got []int
	for range 4 {
		_, body := post(t, s, "1065", graphtest.Deregister, nil)
		got = append(got, errorCode(body))
	}
	s.Clear(graphtest.Deregister)
	_, body := post(t, s, "1065", graphtest.Deregister, nil)
	got = append(got, errorCode(body))
	if want := []int{133016, 133004, 80007, 80007, 0}; !slices.Equal(got, want) {
		t.Errorf("codes %v, want %v", got, want)
	}
	if s.Hits(graphtest.Deregister) != 5 || s.Deregistrations("628111000222") != 1 {
		t.Errorf("%d hits, %d deregistrations; want 5 and 1", s.Hits(graphtest.Deregister), s.Deregistrations("628111000222"))
	}

	t.Run("Wait alone holds, then does the work", func(t *testing.T) {
		open := make(chan struct{})
		s.Fail(graphtest.Deregister, graphtest.Fault{Wait: open})
		time.AfterFunc(50*time.Millisecond, func() { close(open) })
		start := time.Now()
		status, body := post(t, s, "1065", graphtest.Deregister, nil)
		if status != http.StatusOK || body["success"] != true || time.Since(start) < 50*time.Millisecond {
			t.Errorf("%d %v after %v", status, body, time.Since(start))
		}
	})
}

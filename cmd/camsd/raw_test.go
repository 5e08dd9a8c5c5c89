package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawReply is an HTTP reply as a client sees it.
type rawReply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r rawReply) str(k string) string { s, _ := r.Body[k].(string); return s }

func send(t *testing.T, method, u string, body io.Reader, header map[string]string) rawReply {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawReply{Status: resp.StatusCode, Header: resp.Header, Raw: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out.Body); err != nil {
			t.Fatalf("reply is not JSON: %v\n%s", err, b)
		}
	}
	return out
}

// assertEnvelope checks the documented error envelope of a reply.
func assertEnvelope(t *testing.T, r rawReply, status int, code string) {
	t.Helper()
	if r.Status != status || r.str("Code") != code {
		t.Fatalf("got HTTP %d %q, want HTTP %d %q\n%s", r.Status, r.str("Code"), status, code, r.Raw)
	}
	for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
		if r.str(k) == "" {
			t.Errorf("error body lacks %s: %s", k, r.Raw)
		}
	}
	if got := r.Header.Get("x-acs-request-id"); got != r.str("RequestId") {
		t.Errorf("x-acs-request-id %q != RequestId %q", got, r.str("RequestId"))
	}
	if ad, ok := r.Body["AccessDeniedDetail"]; ok {
		if _, isObj := ad.(map[string]any); !isObj {
			t.Errorf("AccessDeniedDetail in an error body must be an object, got %T", ad)
		}
	}
}

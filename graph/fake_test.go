package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "EAAGtest0token0never0logged"

// fakeGraph is a Graph API server on 127.0.0.1 for the four migration edges. It checks what
// Graph checks (version in the path, bearer token, required fields in a form or JSON body) and
// answers as Graph does, errors included. Each edge answers the n-th request since its steps
// were set with steps[edge][n] (the last step repeats); an edge without steps succeeds.
type fakeGraph struct {
	t       *testing.T
	srv     *httptest.Server
	release chan struct{} // closed when the test ends: hung handlers return

	mu    sync.Mutex
	steps map[string][]step
	taken map[string]int // requests each edge answered since its steps were set
	reqs  []graphRequest
}

// graphRequest is a request that passed the path and token checks.
type graphRequest struct {
	Edge, Node, ContentType string
	Form                    url.Values
}

// step answers one request.
type step func(f *fakeGraph, w http.ResponseWriter, r *http.Request, edge string)

// required lists each edge's required fields, as Graph enforces them.
var requiredFields = map[string][]string{
	"phone_numbers": {"cc", "phone_number"},
	"request_code":  {"code_method", "language"},
	"verify_code":   {"code"},
	"register":      {"messaging_product", "pin"},
}

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	f := &fakeGraph{t: t, release: make(chan struct{}), steps: map[string][]step{}, taken: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Listener.Close()
	f.srv.Listener = ln
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.release) }) // runs first: hung handlers return, then Close can wait for them
	return f
}

// on sets how edge answers its next requests, in order.
func (f *fakeGraph) on(edge string, steps ...step) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps[edge] = steps
	f.taken[edge] = 0
}

// hits returns how many requests reached edge.
func (f *fakeGraph) hits(edge string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.Edge == edge {
			n++
		}
	}
	return n
}

func (f *fakeGraph) requests() []graphRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]graphRequest(nil), f.reqs...)
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(r.URL.Path, "/")
	if r.Method != http.MethodPost || len(parts) != 4 || parts[1] != DefaultVersion && parts[1] != "v19.0" {
		writeGraphError(w, http.StatusBadRequest, 2500, 0, false, "Unknown path components: "+r.URL.Path)
		return
	}
	node, edge := parts[2], parts[3]
	if _, ok := requiredFields[edge]; !ok {
		writeGraphError(w, http.StatusBadRequest, 100, 33, false, "Unsupported post request.")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeGraphError(w, http.StatusUnauthorized, 190, 0, false, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	form, err := readBody(r)
	if err != nil {
		writeGraphError(w, http.StatusBadRequest, 100, 0, false, "(#100) "+err.Error())
		return
	}
	for _, name := range requiredFields[edge] {
		if form.Get(name) == "" {
			writeGraphError(w, http.StatusBadRequest, 100, 0, false, "(#100) The parameter "+name+" is required")
			return
		}
	}

	f.mu.Lock()
	n := f.taken[edge]
	f.taken[edge]++
	f.reqs = append(f.reqs, graphRequest{Edge: edge, Node: node, ContentType: r.Header.Get("Content-Type"), Form: form})
	steps := f.steps[edge]
	f.mu.Unlock()

	next := ok
	if len(steps) > 0 {
		next = steps[min(n, len(steps)-1)]
	}
	next(f, w, r, edge)
}

// readBody reads a form or JSON body into url.Values, as Graph takes either.
func readBody(r *http.Request) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.PostForm, nil
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		return nil, err
	}
	form := url.Values{}
	for k, v := range m {
		form.Set(k, fmt.Sprint(v))
	}
	return form, nil
}

func writeGraphError(w http.ResponseWriter, status, code, subcode int, transient bool, message string) {
	body := map[string]any{
		"message":    message,
		"type":       "OAuthException",
		"code":       code,
		"fbtrace_id": "AbCdEf123",
	}
	if subcode != 0 {
		body["error_subcode"] = subcode
	}
	if transient {
		body["is_transient"] = true
	}
	writeJSON(w, status, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// The steps.

// ok answers as Graph does when it accepts the call.
func ok(_ *fakeGraph, w http.ResponseWriter, _ *http.Request, edge string) {
	if edge == "phone_numbers" {
		writeJSON(w, http.StatusOK, map[string]string{"id": "106540352242922"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// fail answers Graph's error body.
func fail(status, code, subcode int, transient bool, message string) step {
	return func(_ *fakeGraph, w http.ResponseWriter, _ *http.Request, _ string) {
		writeGraphError(w, status, code, subcode, transient, message)
	}
}

// raw answers status with body as is.
func raw(status int, contentType, body string) step {
	return func(_ *fakeGraph, w http.ResponseWriter, _ *http.Request, _ string) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// hang never answers: the handler blocks until the test ends.
func hang(f *fakeGraph, _ http.ResponseWriter, _ *http.Request, _ string) {
	<-f.release
}

// hangBody sends 200 and the start of the body, then blocks until the test ends.
func hangBody(f *fakeGraph, w http.ResponseWriter, _ *http.Request, _ string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "100")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"succ`))
	w.(http.Flusher).Flush()
	<-f.release
}

// reset drops the connection with a TCP RST after reading the request.
func reset(f *fakeGraph, w http.ResponseWriter, _ *http.Request, _ string) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		f.t.Errorf("hijack: %v", err)
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// gate blocks until ch is closed (or the test ends), then answers as next does.
func gate(ch <-chan struct{}, next step) step {
	return func(f *fakeGraph, w http.ResponseWriter, r *http.Request, edge string) {
		select {
		case <-ch:
		case <-f.release:
			return
		}
		next(f, w, r, edge)
	}
}

// newTestClient returns a Client of f with its own connection pool and a 1ms back-off.
func newTestClient(t *testing.T, f *fakeGraph) (*Client, *attemptLog) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	log := &attemptLog{}
	c := &Client{
		BaseURL:   f.srv.URL,
		Token:     testToken,
		HTTP:      &http.Client{Transport: tr},
		Backoff:   time.Millisecond,
		OnAttempt: log.record,
	}
	return c, log
}

// attemptLog keeps what OnAttempt saw.
type attemptLog struct {
	mu   sync.Mutex
	list []Attempt
}

func (l *attemptLog) record(_ context.Context, a Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, a)
}

func (l *attemptLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.list)
}

func (l *attemptLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = nil
}

// calls runs each of the four calls with valid arguments; tests loop over it.
var calls = []struct {
	edge string
	do   func(ctx context.Context, c *Client) error
}{
	{"phone_numbers", func(ctx context.Context, c *Client) error {
		_, err := c.AddPhoneNumber(ctx, "102290129340398", "91", "9880212323")
		return err
	}},
	{"request_code", func(ctx context.Context, c *Client) error {
		return c.RequestCode(ctx, "106540352242922", "SMS", "en_US")
	}},
	{"verify_code", func(ctx context.Context, c *Client) error {
		return c.VerifyCode(ctx, "106540352242922", "123456")
	}},
	{"register", func(ctx context.Context, c *Client) error {
		return c.Register(ctx, "106540352242922", "654321")
	}},
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

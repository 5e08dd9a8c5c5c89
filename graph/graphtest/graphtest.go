// Package graphtest is a fake of Meta's WhatsApp Business (Graph) API for the calls behind a
// phone number's life on the platform: add it to a WABA (new, or migrating from another),
// request a verification code, verify it, register and deregister the number. It speaks
// Graph's wire format: paths with the API version, a bearer token, form or JSON bodies,
// {"id"} and {"success":true} answers and Graph's error bodies. It keeps state like the
// platform does (numbers added to WABAs, the codes it sent, which are verified, registered,
// deregistered), so that camsd's whole flow can run against it, and it can be told to fail,
// throttle, hang, stall, reset or hold each edge, request by request (Fault).
//
// It is the one fake Graph API of every test: package graph's tests use it for the client's
// wire format, retries and breaker, cmd/camsd's for the flows end to end.
package graphtest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// The edges the fake serves.
const (
	PhoneNumbers = "phone_numbers"
	RequestCode  = "request_code"
	VerifyCode   = "verify_code"
	Register     = "register"
	Deregister   = "deregister"
)

// TraceID is the fbtrace_id of every error the fake answers.
const TraceID = "AbCdEf123"

// Server is a fake Graph API on 127.0.0.1. Its methods are safe for concurrent use.
type Server struct {
	URL     string
	Token   string
	Version string // e.g. v21.0

	srv     *httptest.Server
	release chan struct{} // closed by Close: held requests return

	mu       sync.Mutex
	numbers  []*number          // in the order they were added
	byID     map[string]*number // by phone-number id
	nextID   int64
	faults   map[string][]Fault
	always   map[string]Fault
	requests []Request
}

// Request is a request that reached an edge: its path and token were Graph's, its body
// could be read. Form holds the query and body fields, as Graph takes either.
type Request struct {
	Edge, Node, ContentType string
	Form                    url.Values
}

// New starts a Server that accepts token on paths of version (e.g. "v21.0").
func New(token, version string) *Server {
	s := &Server{
		Token: token, Version: version, release: make(chan struct{}),
		byID: map[string]*number{}, nextID: 106540352242900,
		faults: map[string][]Fault{}, always: map[string]Fault{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("graphtest: " + err.Error())
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Close stops the server; held and hung requests return.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Hits is how many requests reached edge, faults included.
func (s *Server) Hits(edge string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Edge == edge {
			n++
		}
	}
	return n
}

// Requests returns every request that reached an edge, in the order they arrived.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != s.Version || !known(parts[2]) {
		graphError(w, http.StatusBadRequest, 2500, 0, false, "Unknown path components: "+r.URL.Path)
		return
	}
	node, edge := parts[1], parts[2]
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		graphError(w, http.StatusUnauthorized, 190, 0, false, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	if r.Method != http.MethodPost {
		graphError(w, http.StatusBadRequest, 100, 0, false, "Unsupported get request.")
		return
	}
	form, err := readForm(r)
	if err != nil {
		graphError(w, http.StatusBadRequest, 100, 0, false, "(#100) "+err.Error())
		return
	}

	s.mu.Lock()
	s.requests = append(s.requests, Request{Edge: edge, Node: node, ContentType: r.Header.Get("Content-Type"), Form: form})
	fault, faulted := s.nextFault(edge)
	s.mu.Unlock()
	if faulted && s.answerFault(w, r, fault) {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if edge == PhoneNumbers {
		s.addNumber(w, node, form)
		return
	}
	n := s.byID[node]
	if n == nil {
		graphError(w, http.StatusBadRequest, 100, 33, false, fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", node))
		return
	}
	switch edge {
	case RequestCode:
		s.requestCode(w, n, form)
	case VerifyCode:
		s.verifyCode(w, n, form)
	case Register:
		s.register(w, n, form)
	case Deregister:
		s.deregister(w, n)
	}
}

func known(edge string) bool {
	switch edge {
	case PhoneNumbers, RequestCode, VerifyCode, Register, Deregister:
		return true
	}
	return false
}

func readForm(r *http.Request) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		v := r.URL.Query()
		for k, x := range m {
			v.Set(k, fmt.Sprint(x))
		}
		return v, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}

// required answers Graph's error for the first of names form lacks, and reports whether it
// has them all.
func required(w http.ResponseWriter, form url.Values, names ...string) bool {
	for _, n := range names {
		if form.Get(n) == "" {
			graphError(w, http.StatusBadRequest, 100, 0, false, fmt.Sprintf("(#100) The parameter %s is required", n))
			return false
		}
	}
	return true
}

// graphError writes Graph's error body.
func graphError(w http.ResponseWriter, status, code, subcode int, transient bool, msg string) {
	body := map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": TraceID}
	if subcode != 0 {
		body["error_subcode"] = subcode
	}
	if transient {
		body["is_transient"] = true
	}
	writeJSON(w, status, map[string]any{"error": body})
}

func success(w http.ResponseWriter, v any) {
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

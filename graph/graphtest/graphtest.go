// Package graphtest is a fake of Meta's WhatsApp Business (Graph) API for the four calls
// behind phone-number migration, speaking Graph's wire format: paths with the API version,
// a bearer token, form or JSON bodies, {"success":true} answers and Graph's error bodies.
// It keeps state like the platform does (numbers added to WABAs, the codes it sent, which
// are verified, registrations), so that camsd's whole flow can run against it, and it can be
// told to fail, throttle or hang, edge by edge.
package graphtest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// The edges of the migration flow.
const (
	PhoneNumbers = "phone_numbers"
	RequestCode  = "request_code"
	VerifyCode   = "verify_code"
	Register     = "register"
)

// Server is a fake Graph API on 127.0.0.1.
type Server struct {
	URL     string
	Token   string
	Version string // e.g. v21.0

	srv     *httptest.Server
	release chan struct{}

	mu      sync.Mutex
	numbers map[string]*number // by phone-number id
	byWaba  map[string]string  // waba id + "/" + number -> phone-number id
	nextID  int64
	faults  map[string][]Fault
	hits    map[string]int
}

type number struct {
	id, waba, phone string
	code            string // the last code sent, "" after it was verified
	codes           int    // codes sent
	verified        bool
	registrations   int
	pin             string
}

// Fault is how an edge answers instead of doing its work.
type Fault struct {
	Status    int    // HTTP status of the error answer (default 400)
	Code      int    // Graph error code, e.g. 136024
	Subcode   int    // error_subcode
	Transient bool   // is_transient
	Message   string // default "Fault injected by graphtest"
	Hang      bool   // never answer (until Close)
}

// New starts a Server that accepts token.
func New(token, version string) *Server {
	s := &Server{
		Token: token, Version: version, release: make(chan struct{}),
		numbers: map[string]*number{}, byWaba: map[string]string{}, nextID: 106540352242900,
		faults: map[string][]Fault{}, hits: map[string]int{},
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

// Close stops the server; hung requests return.
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

// Fail makes the next len(faults) requests to edge answer with those faults, in order.
func (s *Server) Fail(edge string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[edge] = append(s.faults[edge], faults...)
}

// Hits is how many requests reached edge (faults included).
func (s *Server) Hits(edge string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[edge]
}

// LastCode is the last code sent to phone (country code + number), "" if none is waiting.
func (s *Server) LastCode(phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.numbers {
		if n.phone == phone && n.code != "" {
			return n.code
		}
	}
	return ""
}

// Registrations is how many times phone was registered.
func (s *Server) Registrations(phone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, n := range s.numbers {
		if n.phone == phone {
			total += n.registrations
		}
	}
	return total
}

// graphError writes Graph's error body.
func graphError(w http.ResponseWriter, status, code, subcode int, transient bool, msg string) {
	body := map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjK"}
	if subcode != 0 {
		body["error_subcode"] = subcode
	}
	if transient {
		body["is_transient"] = true
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

func success(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != s.Version {
		graphError(w, http.StatusBadRequest, 100, 0, false, "Unknown path components: "+r.URL.Path)
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
	s.hits[edge]++
	var fault *Fault
	if q := s.faults[edge]; len(q) > 0 {
		fault, s.faults[edge] = &q[0], q[1:]
	}
	s.mu.Unlock()
	if fault != nil {
		if fault.Hang {
			select {
			case <-r.Context().Done():
			case <-s.release:
			}
			return
		}
		status, msg := fault.Status, fault.Message
		if status == 0 {
			status = http.StatusBadRequest
		}
		if msg == "" {
			msg = "Fault injected by graphtest"
		}
		graphError(w, status, fault.Code, fault.Subcode, fault.Transient, msg)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch edge {
	case PhoneNumbers:
		s.addNumber(w, node, form)
	case RequestCode, VerifyCode, Register:
		n := s.numbers[node]
		if n == nil {
			graphError(w, http.StatusBadRequest, 100, 33, false, fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist", node))
			return
		}
		switch edge {
		case RequestCode:
			s.requestCode(w, n, form)
		case VerifyCode:
			s.verifyCode(w, n, form)
		default:
			s.register(w, n, form)
		}
	default:
		graphError(w, http.StatusBadRequest, 100, 0, false, "Unknown path components: /"+edge)
	}
}

func readForm(r *http.Request) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		v := url.Values{}
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

func required(w http.ResponseWriter, form url.Values, names ...string) bool {
	for _, n := range names {
		if form.Get(n) == "" {
			graphError(w, http.StatusBadRequest, 100, 0, false, fmt.Sprintf("(#100) The parameter %s is required", n))
			return false
		}
	}
	return true
}

func (s *Server) addNumber(w http.ResponseWriter, waba string, form url.Values) {
	if !required(w, form, "cc", "phone_number") {
		return
	}
	if form.Get("migrate_phone_number") != "true" {
		graphError(w, http.StatusBadRequest, 100, 0, false, "(#100) graphtest serves only migrations: migrate_phone_number must be true")
		return
	}
	phone := form.Get("cc") + form.Get("phone_number")
	key := waba + "/" + phone
	id, ok := s.byWaba[key]
	if !ok {
		s.nextID++
		id = fmt.Sprint(s.nextID)
		s.byWaba[key] = id
		s.numbers[id] = &number{id: id, waba: waba, phone: phone}
	}
	// Adding it again starts its migration again.
	n := s.numbers[id]
	n.verified, n.code = false, ""
	success(w, map[string]string{"id": id})
}

func (s *Server) requestCode(w http.ResponseWriter, n *number, form url.Values) {
	if !required(w, form, "code_method", "language") {
		return
	}
	if m := form.Get("code_method"); m != "SMS" && m != "VOICE" {
		graphError(w, http.StatusBadRequest, 100, 0, false, "(#100) Param code_method must be one of {SMS, VOICE}")
		return
	}
	k, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		graphError(w, http.StatusInternalServerError, 1, 0, true, "An unknown error occurred")
		return
	}
	n.code = fmt.Sprintf("%06d", k.Int64())
	n.codes++
	success(w, map[string]bool{"success": true})
}

func (s *Server) verifyCode(w http.ResponseWriter, n *number, form url.Values) {
	if !required(w, form, "code") {
		return
	}
	if n.code == "" || form.Get("code") != n.code {
		graphError(w, http.StatusBadRequest, 136025, 2388097, false, "Verify code error")
		return
	}
	n.code, n.verified = "", true
	success(w, map[string]bool{"success": true})
}

func (s *Server) register(w http.ResponseWriter, n *number, form url.Values) {
	if !required(w, form, "messaging_product", "pin") {
		return
	}
	if !n.verified {
		graphError(w, http.StatusBadRequest, 100, 2388091, false, "The phone number is not eligible for registration")
		return
	}
	n.registrations++
	n.pin = form.Get("pin")
	success(w, map[string]bool{"success": true})
}

// Clear drops the faults still queued for edge.
func (s *Server) Clear(edge string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, edge)
}

package graphtest

import (
	"net"
	"net/http"
	"reflect"
)

// Fault is how an edge answers one request instead of doing its work. By default it is
// Graph's error body with Status, Code, Subcode, Transient and Message; the other fields
// answer what Graph does not document, or nothing at all. A request that reaches the edge
// counts in Hits and Requests whatever its Fault does.
type Fault struct {
	Status    int    // HTTP status of the answer (default 400)
	Code      int    // Graph error code, e.g. 136024
	Subcode   int    // error_subcode
	Transient bool   // is_transient
	Message   string // default "Fault injected by graphtest"

	// Header is added to the answer: Retry-After, Location, ...
	Header http.Header
	// Body, when not empty, is the answer's body as is, with ContentType, instead of Graph's
	// error body: a proxy's page, a 2xx without the documented body.
	Body, ContentType string

	// Hang never answers, until the client gives up or Close.
	Hang bool
	// Stall answers 200 with a Content-Length and the first bytes of a body, then hangs like
	// Hang: a body that never ends.
	Stall bool
	// Reset reads the request and drops the connection with a TCP RST, without an answer.
	Reset bool

	// Wait holds the request until it is closed (or Close), then answers as the fields above
	// say; a Fault with Wait alone does the edge's work after the wait.
	Wait <-chan struct{}
}

// Fail makes the next len(faults) requests to edge answer with those faults, in order; then
// the edge does its work again (or answers FailAll's fault).
func (s *Server) Fail(edge string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[edge] = append(s.faults[edge], faults...)
}

// FailAll makes every request to edge that Fail's faults do not answer answer with f, until
// Clear.
func (s *Server) FailAll(edge string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always[edge] = f
}

// Clear drops the faults still queued for edge and its FailAll: it does its work again.
func (s *Server) Clear(edge string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, edge)
	delete(s.always, edge)
}

// nextFault takes the fault that answers the next request to edge; s.mu is held.
func (s *Server) nextFault(edge string) (Fault, bool) {
	if q := s.faults[edge]; len(q) > 0 {
		s.faults[edge] = q[1:]
		return q[0], true
	}
	f, ok := s.always[edge]
	return f, ok
}

// answerFault answers r as f says, and reports whether it did: false for a Fault with Wait
// alone, once the wait is over, which leaves the answer to the edge's work.
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Wait != nil {
		select {
		case <-f.Wait:
		case <-r.Context().Done():
			return true
		case <-s.release:
			return true
		}
		if f.Wait = nil; reflect.ValueOf(f).IsZero() {
			return false
		}
	}
	switch {
	case f.Hang:
		s.hold(r)
		return true
	case f.Reset:
		reset(w)
		return true
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	switch {
	case f.Stall:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"succ`))
		w.(http.Flusher).Flush()
		s.hold(r)
	case f.Body != "":
		w.Header().Set("Content-Type", f.ContentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(f.Body))
	default:
		msg := f.Message
		if msg == "" {
			msg = "Fault injected by graphtest"
		}
		graphError(w, status, f.Code, f.Subcode, f.Transient, msg)
	}
	return true
}

// hold blocks until the client gives up or the server closes.
func (s *Server) hold(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.release:
	}
}

// reset drops the request's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

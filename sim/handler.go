package sim

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/camsd/camsd"
)

// The simulator's routes. Handler serves them at these absolute paths, so it is mounted on
// the "/_sim/" prefix as it is; the page refers to the others by relative URLs.
const (
	PagePath     = "/_sim/"
	MessagesPath = "/_sim/messages"
	EventsPath   = "/_sim/events"
)

// Handler serves the simulator over o without live events: the page (PagePath, with "/_sim"
// redirected to it) and the captured messages as JSON (MessagesPath). EventsPath answers 404,
// and the page polls the messages instead. Use LiveHandler to serve events.
func Handler(o camsd.Outbox) http.Handler { return &handler{outbox: o} }

// LiveHandler is Handler with EventsPath served from hub: a text/event-stream of the
// messages the Provider publishes to hub, so the page shows new messages as they are sent,
// as many streams at once and each as long as limits say.
func LiveHandler(o camsd.Outbox, hub *Hub, limits Streams) http.Handler {
	return &handler{outbox: o, hub: hub, streams: limits.withDefaults()}
}

type handler struct {
	outbox  camsd.Outbox
	hub     *Hub // nil: no live events
	streams Streams
	open    atomic.Int64 // event streams open now
}

type messagesBody struct {
	Messages []messageJSON
}

type messageJSON struct {
	PhoneNumber string
	Method      string
	Locale      string
	Code        string
	Text        string
	CreatedAt   string // RFC 3339 with nanoseconds, UTC
}

// errorBody uses the field names of camsd's API errors, so one client can read both.
type errorBody struct {
	Code    string
	Message string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve func(http.ResponseWriter, *http.Request)
	getOnly := "The simulator's page accepts GET and HEAD only."
	switch p := r.URL.Path; {
	case p == MessagesPath:
		serve, getOnly = h.serveMessages, "The simulator's messages accept GET and HEAD only."
	case p == EventsPath && h.hub != nil:
		serve, getOnly = h.serveEvents, "The simulator's events accept GET and HEAD only."
	case p+"/" == PagePath: // "/_sim"
		serve = redirectToPage
	case isAsset(p):
		serve = serveAsset
	default:
		writeJSON(w, r, http.StatusNotFound, errorBody{"NotFound", "No such simulator resource: " + p})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, r, http.StatusMethodNotAllowed, errorBody{camsd.CodeUnsupportedHTTPMethod, getOnly})
		return
	}
	serve(w, r)
}

// serveMessages answers GET and HEAD MessagesPath: the captured messages newest first, as
// {"Messages":[...]}, only those to PhoneNumber when that query parameter is given, at most
// Limit when that one is. Every answer, errors included, is JSON.
func (h *handler) serveMessages(w http.ResponseWriter, r *http.Request) {
	q, ok := parseQuery(w, r)
	if !ok {
		return
	}
	limit := 0
	if s := q.Get("Limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeJSON(w, r, http.StatusBadRequest, errorBody{camsd.CodeInvalidParameter,
				"Limit must be a whole number, 0 or more."})
			return
		}
		limit = n
	}
	phone := phoneParam(q)

	msgs, err := h.outbox.Messages(r.Context(), phone, limit)
	if err != nil {
		// The error may name files or SQL; it goes to the log, never to the client.
		slog.ErrorContext(r.Context(), "sim: list captured messages", "err", err)
		writeJSON(w, r, http.StatusInternalServerError, errorBody{camsd.CodeInternalError,
			"The simulator could not read its outbox."})
		return
	}
	body := messagesBody{Messages: make([]messageJSON, 0, len(msgs))} // [] rather than null
	for _, m := range msgs {
		body.Messages = append(body.Messages, toJSON(m))
	}
	writeJSON(w, r, http.StatusOK, body)
}

// parseQuery returns r's query, or false once it answered 400 because the query is not valid
// percent-encoding (?PhoneNumber=%zz): r.URL.Query drops a bad pair, so a filter the client
// meant would silently become "every message".
func parseQuery(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeJSON(w, r, http.StatusBadRequest, errorBody{camsd.CodeInvalidParameter,
			"The query is not valid percent-encoding (" + err.Error() + ")."})
		return nil, false
	}
	return q, true
}

// phoneParam is the PhoneNumber query parameter as stored numbers are written. People paste
// numbers with "+", which an unencoded query turns into a space; stored numbers have neither.
func phoneParam(q url.Values) string {
	return strings.TrimLeft(strings.TrimSpace(q.Get("PhoneNumber")), "+")
}

func toJSON(m camsd.Message) messageJSON {
	return messageJSON{
		PhoneNumber: m.PhoneNumber,
		Method:      m.Method,
		Locale:      m.Locale,
		Code:        m.Code,
		Text:        m.Text,
		CreatedAt:   m.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
}

// writeJSON is the one writer of this handler's answers. Content-Type is application/json
// without a charset: JSON is UTF-8 by definition (RFC 8259) and the type defines no parameter.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen with these types; answer rather than panic
		slog.ErrorContext(r.Context(), "sim: encode answer", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"Code":"InternalError","Message":"The simulator could not encode its answer."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store") // the outbox changes with every code sent
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

package sim

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// MessagesPath is where Handler serves the captured messages.
const MessagesPath = "/_sim/messages"

// Handler serves GET (and HEAD) MessagesPath: the captured messages newest first, as
// {"Messages":[...]}, only those to PhoneNumber when that query parameter is given, at most
// Limit when that one is. Every answer, errors included, is JSON.
func Handler(o camsd.Outbox) http.Handler { return &handler{outbox: o} }

type handler struct{ outbox camsd.Outbox }

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
	if r.URL.Path != MessagesPath {
		writeJSON(w, r, http.StatusNotFound, errorBody{"NotFound", "No such simulator resource: " + r.URL.Path})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, r, http.StatusMethodNotAllowed, errorBody{camsd.CodeUnsupportedHTTPMethod,
			"The simulator's messages accept GET and HEAD only."})
		return
	}
	q := r.URL.Query()
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
	// People paste numbers with "+", which an unencoded query turns into a space; stored
	// numbers have neither.
	phone := strings.TrimLeft(strings.TrimSpace(q.Get("PhoneNumber")), "+")

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
		body.Messages = append(body.Messages, messageJSON{
			PhoneNumber: m.PhoneNumber,
			Method:      m.Method,
			Locale:      m.Locale,
			Code:        m.Code,
			Text:        m.Text,
			CreatedAt:   m.CreatedAt.UTC().Format(time.RFC3339Nano),
		})
	}
	writeJSON(w, r, http.StatusOK, body)
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

package sim

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/camsd/camsd"
)

const (
	// keepAlive is how often an idle event stream sends a comment, so that proxies keep it
	// open and a vanished browser is noticed.
	keepAlive = 15 * time.Second
	// eventWriteTimeout bounds one write to the stream: a browser that stops reading is
	// dropped rather than holding a goroutine. It replaces the server's WriteTimeout, which
	// would otherwise end every stream after a fixed time.
	eventWriteTimeout = 10 * time.Second
	// reconnectDelay is how long a browser waits before it reconnects a broken stream.
	reconnectDelay = 2 * time.Second
	// busyRetry is the Retry-After of a stream refused because Streams.Max are open.
	busyRetry = 30 * time.Second
)

// The defaults of Streams.
const (
	DefaultMaxStreams = 100
	DefaultStreamLife = 10 * time.Minute
)

// Streams bounds the event streams of a LiveHandler; a zero field takes its default. Each
// stream holds a connection, a goroutine and a subscription to the hub for as long as it
// lasts, and a page left open in a tab never ends its own.
type Streams struct {
	// Max is how many streams may be open at once (DefaultMaxStreams). One asked for over
	// it is answered 503 ServiceUnavailable with Retry-After; the page polls meanwhile and
	// opens a stream again later.
	Max int
	// Life is how long one stream lasts (DefaultStreamLife). Then it ends, the browser's
	// EventSource reconnects after the stream's retry delay, and the page reads the messages
	// it may have missed in between.
	Life time.Duration
}

func (s Streams) withDefaults() Streams {
	if s.Max <= 0 {
		s.Max = DefaultMaxStreams
	}
	if s.Life <= 0 {
		s.Life = DefaultStreamLife
	}
	return s
}

// serveEvents answers GET and HEAD EventsPath with a text/event-stream (the browser's
// EventSource): one "message" event per captured message, its data the message as
// MessagesPath writes it, only those to PhoneNumber when that query parameter is given.
// A "resync" event says that messages were missed: read MessagesPath again. The stream
// ends when the client leaves, the hub closes or the stream's life (Streams.Life) is over;
// over Streams.Max open streams, a new one is refused.
func (h *handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	q, ok := parseQuery(w, r)
	if !ok {
		return
	}
	if r.Method != http.MethodHead {
		if h.open.Add(1) > int64(h.streams.Max) {
			h.open.Add(-1)
			w.Header().Set("Retry-After", strconv.Itoa(int(busyRetry.Seconds())))
			writeJSON(w, r, http.StatusServiceUnavailable, errorBody{camsd.CodeServiceUnavailable,
				"The simulator serves " + strconv.Itoa(h.streams.Max) + " event streams at once: poll " + MessagesPath + " or try again later."})
			return
		}
		defer h.open.Add(-1)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Accel-Buffering", "no") // nginx and its kin: do not buffer the stream
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}

	sub := h.hub.Subscribe() // before the first byte: a client that read it misses nothing
	defer sub.Cancel()
	phone := phoneParam(q)
	rc := http.NewResponseController(w)
	send := func(format string, args ...any) error {
		// A ResponseWriter without deadlines (httptest.ResponseRecorder) answers
		// ErrNotSupported: the stream then has none.
		_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return rc.Flush()
	}

	if err := send("retry: %d\n\n", reconnectDelay.Milliseconds()); err != nil {
		slog.DebugContext(r.Context(), "sim: event stream ended", "err", err)
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	life := time.NewTimer(h.streams.Life)
	defer life.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-life.C:
			return // the browser reconnects after the retry delay
		case m, ok := <-sub.Messages():
			if !ok {
				return // the hub closed: the server is shutting down
			}
			if phone != "" && m.PhoneNumber != phone {
				continue
			}
			b, _ := json.Marshal(toJSON(m)) // strings only: cannot fail; one line, no "\n"
			err = send("data: %s\n\n", b)
		case <-sub.Lost():
			err = send("event: resync\ndata: \n\n")
		case <-tick.C:
			err = send(": keep-alive\n\n")
		}
		if err != nil {
			// The client left, or a wrapper of the ResponseWriter cannot flush (it must
			// implement Unwrap); either way the page falls back to polling.
			slog.DebugContext(r.Context(), "sim: event stream ended", "err", err)
			return
		}
	}
}

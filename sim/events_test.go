package sim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/sim"
	"github.com/google/go-cmp/cmp"
)

// sseEvent is one event of a text/event-stream: its fields, in order, comments left out.
type sseEvent []string

// readEvent reads the next event, or returns io.EOF at the end of the stream.
func readEvent(r *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && len(ev) == 0 && line == "" {
				return nil, io.EOF
			}
			return nil, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && len(ev) > 0:
			return ev, nil
		case line == "", strings.HasPrefix(line, ":"):
		default:
			ev = append(ev, line)
		}
	}
}

func TestHandler_events(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	o := &fakeOutbox{}
	hub := &sim.Hub{}
	p := &sim.Provider{Outbox: o, Hub: hub, Now: func() time.Time { return t0 }}
	srv := httptest.NewServer(sim.LiveHandler(o, hub, sim.Streams{}))
	defer srv.Close()
	defer hub.Close() // before srv.Close, which waits for the streams to end
	client := &http.Client{Timeout: 10 * time.Second}

	open := func(t *testing.T, query string) (*http.Response, *bufio.Reader) {
		t.Helper()
		res, err := client.Get(srv.URL + "/_sim/events" + query)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
		r := bufio.NewReader(res.Body)
		// The first event comes once the handler subscribed: nothing sent after it is missed.
		ev, err := readEvent(r)
		if err != nil || !cmp.Equal(ev, sseEvent{"retry: 2000"}) {
			t.Fatalf("first event %q, %v; want retry: 2000", ev, err)
		}
		return res, r
	}

	t.Run("each captured message, filtered by number", func(t *testing.T) {
		_, r := open(t, "?PhoneNumber=%2B8613800001111")
		for _, m := range []camsd.CodeMessage{
			{PhoneNumber: "6281200002222", Method: "voice", Locale: "id", Code: "222222"},
			{PhoneNumber: "8613800001111", Method: "sms", Locale: "zh_CN", Code: "111111"},
		} {
			if err := p.SendCode(context.Background(), nil, m); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := readEvent(r)
		if err != nil || len(ev) != 1 || !strings.HasPrefix(ev[0], "data: ") {
			t.Fatalf("event %q, %v; want one data line", ev, err)
		}
		var got messageJSON
		if err := json.Unmarshal([]byte(strings.TrimPrefix(ev[0], "data: ")), &got); err != nil {
			t.Fatal(err)
		}
		want := messageJSON{
			PhoneNumber: "8613800001111",
			Method:      "sms",
			Locale:      "zh_CN",
			Code:        "111111",
			Text:        sim.Text("zh_CN", "sms", "111111"),
			CreatedAt:   "2026-03-01T09:30:00Z",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("message (-want +got):\n%s", diff)
		}
	})

	t.Run("the stream outlives the server's timeouts", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(sim.LiveHandler(o, hub, sim.Streams{}))
		srv.Config.ReadTimeout = 100 * time.Millisecond
		srv.Config.WriteTimeout = 100 * time.Millisecond
		srv.Start()
		defer srv.Close()
		res, err := client.Get(srv.URL + "/_sim/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		r := bufio.NewReader(res.Body)
		if _, err := readEvent(r); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		capture(t, p, "8613800001111", "333333")
		if ev, err := readEvent(r); err != nil || len(ev) != 1 || !strings.Contains(ev[0], `"Code":"333333"`) {
			t.Errorf("event %q, %v; want the message", ev, err)
		}
	})

	t.Run("the stream ends when the hub closes", func(t *testing.T) {
		hub := &sim.Hub{}
		srv := httptest.NewServer(sim.LiveHandler(o, hub, sim.Streams{}))
		defer srv.Close()
		res, err := client.Get(srv.URL + "/_sim/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		r := bufio.NewReader(res.Body)
		if _, err := readEvent(r); err != nil {
			t.Fatal(err)
		}
		hub.Close()
		if ev, err := readEvent(r); !errors.Is(err, io.EOF) {
			t.Errorf("after Close: event %q, %v; want the end of the stream", ev, err)
		}
	})

	t.Run("at most Max streams at once", func(t *testing.T) {
		srv := httptest.NewServer(sim.LiveHandler(o, hub, sim.Streams{Max: 2}))
		defer srv.Close()
		var bodies []io.Closer
		defer func() { // before srv.Close, which waits for the streams to end
			for _, b := range bodies {
				b.Close()
			}
		}()
		get := func() *http.Response {
			t.Helper()
			res, err := client.Get(srv.URL + "/_sim/events")
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, res.Body)
			return res
		}
		var open []*http.Response
		for range 2 {
			res := get()
			// The first event comes once the stream counts.
			if _, err := readEvent(bufio.NewReader(res.Body)); res.StatusCode != http.StatusOK || err != nil {
				t.Fatalf("stream under the cap: status %d, %v", res.StatusCode, err)
			}
			open = append(open, res)
		}
		res := get()
		var body struct{ Code, Message string }
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusServiceUnavailable || body.Code != camsd.CodeServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Fatalf("over the cap: status %d, Retry-After %q, %+v; want 503 ServiceUnavailable with Retry-After",
				res.StatusCode, res.Header.Get("Retry-After"), body)
		}
		if res, err := client.Head(srv.URL + "/_sim/events"); err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("HEAD, which opens no stream: %v", err)
		} else {
			res.Body.Close()
		}

		// Once a client leaves, the server notices and its place is free again.
		open[0].Body.Close()
		for i := 0; ; i++ {
			res := get()
			if res.StatusCode == http.StatusOK {
				break
			}
			res.Body.Close()
			if i == 1000 {
				t.Fatalf("no stream served after one closed: status %d", res.StatusCode)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("a stream ends after its life", func(t *testing.T) {
		srv := httptest.NewServer(sim.LiveHandler(o, hub, sim.Streams{Life: 50 * time.Millisecond}))
		defer srv.Close()
		res, err := client.Get(srv.URL + "/_sim/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		r := bufio.NewReader(res.Body)
		if ev, err := readEvent(r); err != nil || !cmp.Equal(ev, sseEvent{"retry: 2000"}) {
			t.Fatalf("first event %q, %v; want the retry delay the browser reconnects after", ev, err)
		}
		if ev, err := readEvent(r); !errors.Is(err, io.EOF) {
			t.Errorf("event %q, %v; want the end of the stream", ev, err)
		}
	})

	t.Run("HEAD has the headers only", func(t *testing.T) {
		res, err := client.Head(srv.URL + "/_sim/events")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Errorf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
	})

	t.Run("a query that is not percent-encoding is refused, not every message streamed", func(t *testing.T) {
		res, err := client.Get(srv.URL + "/_sim/events?PhoneNumber=%zz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct{ Code, Message string }
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusBadRequest || body.Code != camsd.CodeInvalidParameter || !strings.Contains(body.Message, "percent-encoding") {
			t.Errorf("status %d, body %+v; want 400 InvalidParameter naming percent-encoding", res.StatusCode, body)
		}
	})

	t.Run("without a hub there are no events", func(t *testing.T) {
		rec := serve(t, o, http.MethodGet, "/_sim/events")
		if rec.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", rec.Code)
		}
	})

	t.Run("POST is refused", func(t *testing.T) {
		rec := httptest.NewRecorder()
		sim.LiveHandler(o, hub, sim.Streams{}).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/_sim/events", nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("status %d, Allow %q; want 405, GET, HEAD", rec.Code, rec.Header().Get("Allow"))
		}
	})
}

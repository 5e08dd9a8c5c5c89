package sim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/sim"
	"github.com/google/go-cmp/cmp"
)

type messageJSON struct {
	PhoneNumber, Method, Locale, Code, Text, CreatedAt string
}

// serve sends one request to a Handler over o and returns the recorded response.
func serve(t *testing.T, o camsd.Outbox, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	sim.Handler(o).ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, target, ct)
	}
	return rec
}

func decodeMessages(t *testing.T, rec *httptest.ResponseRecorder) []messageJSON {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	var body struct{ Messages []messageJSON }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	return body.Messages
}

func TestHandler(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 500, time.FixedZone("CST", 8*3600))
	o := &fakeOutbox{}
	for i, m := range []camsd.CodeMessage{
		{PhoneNumber: "8613800001111", Method: "sms", Locale: "zh_CN", Code: "111111"},
		{PhoneNumber: "6281200002222", Method: "voice", Locale: "id", Code: "222222"},
		{PhoneNumber: "8613800001111", Method: "sms", Locale: "en_US", Code: "333333"},
	} {
		p := &sim.Provider{Outbox: o, Now: func() time.Time { return t0.Add(time.Duration(i) * time.Second) }}
		if err := p.SendCode(context.Background(), nil, m); err != nil {
			t.Fatal(err)
		}
	}
	codes := func(ms []messageJSON) []string {
		var cs []string
		for _, m := range ms {
			cs = append(cs, m.Code)
		}
		return cs
	}

	t.Run("newest first with every field", func(t *testing.T) {
		got := decodeMessages(t, serve(t, o, http.MethodGet, "/_sim/messages"))
		if diff := cmp.Diff([]string{"333333", "222222", "111111"}, codes(got)); diff != "" {
			t.Fatalf("codes (-want +got):\n%s", diff)
		}
		want := messageJSON{
			PhoneNumber: "6281200002222",
			Method:      "voice",
			Locale:      "id",
			Code:        "222222",
			Text:        sim.Text("id", "voice", "222222"),
			CreatedAt:   "2026-03-01T01:30:01.0000005Z",
		}
		if diff := cmp.Diff(want, got[1]); diff != "" {
			t.Errorf("message (-want +got):\n%s", diff)
		}
	})

	t.Run("filter and limit", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"?PhoneNumber=8613800001111", []string{"333333", "111111"}},
			{"?PhoneNumber=%2B8613800001111", []string{"333333", "111111"}}, // "+86..."
			{"?PhoneNumber=+8613800001111", []string{"333333", "111111"}},   // "+" read as space
			{"?PhoneNumber=19990000000", nil},
			{"?Limit=2", []string{"333333", "222222"}},
			{"?PhoneNumber=8613800001111&Limit=1", []string{"333333"}},
			{"?Limit=0", []string{"333333", "222222", "111111"}},
		} {
			got := decodeMessages(t, serve(t, o, http.MethodGet, "/_sim/messages"+tc.query))
			if diff := cmp.Diff(tc.want, codes(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.query, diff)
			}
		}
	})

	t.Run("empty outbox is an empty list", func(t *testing.T) {
		rec := serve(t, &fakeOutbox{}, http.MethodGet, "/_sim/messages")
		if rec.Code != http.StatusOK || rec.Body.String() != `{"Messages":[]}` {
			t.Errorf("got %d %s, want 200 {\"Messages\":[]}", rec.Code, rec.Body)
		}
	})

	t.Run("HEAD has headers and no body", func(t *testing.T) {
		rec := serve(t, o, http.MethodHead, "/_sim/messages")
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "0" {
			t.Errorf("got %d, %d body bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, target string
			outbox               camsd.Outbox
			status               int
			code                 string
		}{
			{"POST", http.MethodPost, "/_sim/messages", o, http.StatusMethodNotAllowed, camsd.CodeUnsupportedHTTPMethod},
			{"DELETE", http.MethodDelete, "/_sim/messages", o, http.StatusMethodNotAllowed, camsd.CodeUnsupportedHTTPMethod},
			{"bad Limit", http.MethodGet, "/_sim/messages?Limit=ten", o, http.StatusBadRequest, camsd.CodeInvalidParameter},
			{"negative Limit", http.MethodGet, "/_sim/messages?Limit=-1", o, http.StatusBadRequest, camsd.CodeInvalidParameter},
			{"bad percent-encoding", http.MethodGet, "/_sim/messages?PhoneNumber=%zz", o, http.StatusBadRequest, camsd.CodeInvalidParameter},
			{"bad percent-encoding elsewhere", http.MethodGet, "/_sim/messages?PhoneNumber=8613800001111&x=%", o, http.StatusBadRequest, camsd.CodeInvalidParameter},
			{"other path", http.MethodGet, "/_sim/nothing", o, http.StatusNotFound, "NotFound"},
			{"outbox error", http.MethodGet, "/_sim/messages",
				&fakeOutbox{listErr: errors.New("sqlite: /var/lib/camsd/db locked")},
				http.StatusInternalServerError, camsd.CodeInternalError},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rec := serve(t, tc.outbox, tc.method, tc.target)
				var body struct{ Code, Message string }
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("body %s: %v", rec.Body, err)
				}
				if rec.Code != tc.status || body.Code != tc.code || body.Message == "" {
					t.Errorf("got %d %s, want %d with Code %s", rec.Code, rec.Body, tc.status, tc.code)
				}
				if strings.Contains(rec.Body.String(), "sqlite") {
					t.Errorf("body %s leaks the outbox error", rec.Body)
				}
				if tc.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow = %q, want GET, HEAD", rec.Header().Get("Allow"))
				}
			})
		}
	})
}

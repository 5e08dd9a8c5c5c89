package graph

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/graph/graphtest"
)

const testToken = "EAAGtest0token0never0logged"

// The numbers the fake Graph API holds when a test starts: each has the code "123456"
// waiting and was verified before, so that every call of calls succeeds on it.
const (
	testWABA   = "102290129340398"
	testNumber = "106540352242922"
	otherID    = "1"
)

// newGraph starts the fake Graph API on DefaultVersion, stopped when the test ends.
func newGraph(t *testing.T) *graphtest.Server {
	t.Helper()
	return newGraphVersion(t, DefaultVersion)
}

func newGraphVersion(t *testing.T, version string) *graphtest.Server {
	t.Helper()
	g := graphtest.New(testToken, version)
	t.Cleanup(g.Close)
	g.Put(graphtest.Number{ID: testNumber, WABA: testWABA, Phone: "919880200000", Code: "123456", Verified: true})
	g.Put(graphtest.Number{ID: otherID, WABA: testWABA, Phone: "919880200001", Code: "123456", Verified: true})
	return g
}

// Faults, as Graph answers them.

// fail is Graph's error body.
func fail(status, code, subcode int, transient bool, message string) graphtest.Fault {
	return graphtest.Fault{Status: status, Code: code, Subcode: subcode, Transient: transient, Message: message}
}

// raw answers status with body as is.
func raw(status int, contentType, body string) graphtest.Fault {
	return graphtest.Fault{Status: status, ContentType: contentType, Body: body}
}

var (
	hang     = graphtest.Fault{Hang: true}
	hangBody = graphtest.Fault{Stall: true}
	reset    = graphtest.Fault{Reset: true}
)

// newTestClient returns a Client of g with its own connection pool and a 1ms back-off.
func newTestClient(t *testing.T, g *graphtest.Server) (*Client, *attemptLog) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	log := &attemptLog{}
	c := &Client{
		BaseURL:   g.URL,
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

// calls runs each call with valid arguments, one per edge; tests loop over it.
var calls = []struct {
	edge string
	do   func(ctx context.Context, c *Client) error
}{
	{"phone_numbers", func(ctx context.Context, c *Client) error {
		_, err := c.AddPhoneNumber(ctx, testWABA, camsd.NewNumber{CountryCode: "91", Number: "9880212323", Migrate: true})
		return err
	}},
	{"request_code", func(ctx context.Context, c *Client) error {
		return c.RequestCode(ctx, testNumber, "SMS", "en_US")
	}},
	{"verify_code", func(ctx context.Context, c *Client) error {
		return c.VerifyCode(ctx, testNumber, "123456")
	}},
	{"register", func(ctx context.Context, c *Client) error {
		return c.Register(ctx, testNumber, "654321")
	}},
	{"deregister", func(ctx context.Context, c *Client) error {
		return c.Deregister(ctx, testNumber)
	}},
}

// do runs the call of calls on edge.
func do(ctx context.Context, c *Client, edge string) error {
	for _, call := range calls {
		if call.edge == edge {
			return call.do(ctx, c)
		}
	}
	panic("no call on edge " + edge)
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

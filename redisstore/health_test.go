package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/redisstore"
)

// switchProxy forwards connections to the test Redis until it is cut: then it closes every
// connection and refuses new ones by closing each at once, until it is restored.
type switchProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newSwitchProxy(t *testing.T) *switchProxy {
	t.Helper()
	open(t, contractTimeout) // skips without Redis
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(testURL(), "redis://")
	target = target[:strings.LastIndex(target, "/")]
	p := &switchProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.set(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *switchProxy) url() string { return "redis://" + p.ln.Addr().String() + "/0" }

func (p *switchProxy) set(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// A failure marks the Client down: later calls fail at once, without waiting for Redis; once
// Redis answers again the prober marks it up within a second, and calls go to Redis again.
func TestClient_downAndUp(t *testing.T) {
	p := newSwitchProxy(t)
	c, err := redisstore.Open(p.url(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var changes []bool
	var mu sync.Mutex
	c.OnChange(func(up bool, cause error) {
		mu.Lock()
		changes = append(changes, up)
		mu.Unlock()
		if !up && !errors.Is(cause, redisstore.ErrUnavailable) {
			t.Errorf("marked down for %v, which is not ErrUnavailable", cause)
		}
	})
	l := redisstore.NewLimiter(c, prefix(t))
	if _, err := l.Allow(t.Context(), "acct", 10); err != nil || !c.Up() {
		t.Fatalf("with Redis up: %v, up %v", err, c.Up())
	}

	p.set(true)
	if _, err := l.Allow(t.Context(), "acct", 10); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("with Redis cut: %v, want ErrUnavailable", err)
	}
	if c.Up() || c.Downs() != 1 {
		t.Fatalf("after a failure: up %v, %d downs; want down once", c.Up(), c.Downs())
	}
	for range 20 {
		start := time.Now()
		if _, err := l.Allow(t.Context(), "acct", 10); !errors.Is(err, redisstore.ErrUnavailable) {
			t.Fatalf("while down: %v, want ErrUnavailable", err)
		}
		if took := time.Since(start); took > 20*time.Millisecond {
			t.Errorf("a call while down took %v: it waited for Redis", took)
		}
	}

	p.set(false)
	deadline := time.Now().Add(3 * time.Second)
	for !c.Up() {
		if time.Now().After(deadline) {
			t.Fatal("not up 3 s after Redis came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := l.Allow(t.Context(), "acct", 10); err != nil {
		t.Fatalf("after Redis came back: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 2 || changes[0] || !changes[1] {
		t.Errorf("OnChange heard %v, want [false true]", changes)
	}
}

// Concurrent calls share pipelines.
func TestClient_pipelines(t *testing.T) {
	c := open(t, contractTimeout)
	l := redisstore.NewLimiter(c, prefix(t))
	before := c.Pipelines()
	var wg sync.WaitGroup
	const callers = 64
	for i := range callers {
		wg.Go(func() {
			if _, err := l.Allow(t.Context(), "acct"+string(rune('a'+i%26)), 1000); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := c.Pipelines() - before
	if n >= callers {
		t.Errorf("%d calls in %d pipelines, want fewer pipelines", callers, n)
	}
	t.Logf("%d calls in %d pipelines", callers, n)
}

// memNonces is a NonceStore in memory: the durable store's stand-in.
type memNonces struct {
	mu   sync.Mutex
	seen map[string]bool
	uses int
}

func (m *memNonces) Use(_ context.Context, _ *camsd.Call, key, nonce string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.uses++
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	if m.seen[key+"/"+nonce] {
		return camsd.ErrNonceUsed
	}
	m.seen[key+"/"+nonce] = true
	return nil
}

// NonceGuard: Redis refuses the replays it knows; the durable store refuses those Redis
// forgot, and decides alone while Redis is away.
func TestNonceGuard(t *testing.T) {
	p := newSwitchProxy(t)
	c, err := redisstore.Open(p.url(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pre := prefix(t)
	durable := &memNonces{}
	g := &redisstore.NonceGuard{Redis: redisstore.NewNonces(c, pre, 100), Durable: durable}
	exp := time.Now().Add(time.Minute)

	if err := g.Use(t.Context(), nil, "k", "n1", exp); err != nil {
		t.Fatal(err)
	}
	if err := g.Use(t.Context(), nil, "k", "n1", exp); !errors.Is(err, camsd.ErrNonceUsed) || durable.uses != 1 {
		t.Errorf("replay: %v after %d durable checks; want ErrNonceUsed from Redis alone", err, durable.uses)
	}
	// Redis forgets (FLUSHALL on a Redis without persistence): the durable store refuses.
	rawClient(t).Del(t.Context(), pre+"nonce:k")
	if err := g.Use(t.Context(), nil, "k", "n1", exp); !errors.Is(err, camsd.ErrNonceUsed) {
		t.Errorf("replay after Redis forgot: %v, want ErrNonceUsed", err)
	}
	// Redis away: the durable store decides, counted.
	p.set(true)
	for _, n := range []string{"n2", "n3"} {
		if err := g.Use(t.Context(), nil, "k", n, exp); err != nil {
			t.Errorf("new nonce %s with Redis away: %v", n, err)
		}
	}
	if err := g.Use(t.Context(), nil, "k", "n2", exp); !errors.Is(err, camsd.ErrNonceUsed) {
		t.Errorf("replay with Redis away: %v, want ErrNonceUsed", err)
	}
	if g.Fallbacks() != 3 {
		t.Errorf("Fallbacks() = %d, want 3", g.Fallbacks())
	}
}

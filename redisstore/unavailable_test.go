package redisstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ratelimit"
	"github.com/camsd/camsd/redisstore"
)

// timeout is the Redis timeout the issue sets as the default. A call may take it plus 10ms;
// the tests allow more, so that a loaded machine does not fail them, and still catch a call
// that retries or waits out a default timeout of seconds.
const (
	timeout = 50 * time.Millisecond
	bound   = timeout + 200*time.Millisecond
)

// downs are Redis servers that do not answer, each a fresh address per test.
var downs = []struct {
	name string
	addr func(t *testing.T) string
}{
	{"silent", silentServer},
	{"refusing connections", closedPort},
	{"loading", func(t *testing.T) string {
		return erringServer(t, "LOADING Redis is loading the dataset in memory")
	}},
	{"a read-only replica", func(t *testing.T) string {
		return erringServer(t, "READONLY You can't write against a read only replica.")
	}},
}

// openDown returns a Client on a Redis that does not answer.
func openDown(t *testing.T, addr string) *redisstore.Client {
	t.Helper()
	c, err := redisstore.Open("redis://"+addr+"/0", timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// timed calls f, from callers goroutines at once, rounds times each, and checks every call
// returns an error wrapping ErrUnavailable within bound.
func timed(t *testing.T, callers, rounds int, f func() error) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	for range callers {
		wg.Go(func() {
			for range rounds {
				start := time.Now()
				err := f()
				took := time.Since(start)
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
				if !errors.Is(err, redisstore.ErrUnavailable) {
					t.Errorf("error %v, want one wrapping ErrUnavailable", err)
				}
				if took > bound {
					t.Errorf("took %v, want under %v (timeout %v)", took, bound, timeout)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("slowest of %d calls: %v", callers*rounds, slowest)
}

func TestUnavailable(t *testing.T) {
	for _, down := range downs {
		t.Run(down.name, func(t *testing.T) {
			t.Parallel()
			c := openDown(t, down.addr(t))

			t.Run("nonce checks fail closed, in bounded time", func(t *testing.T) {
				n := redisstore.NewNonces(c, "camsd:", 100)
				timed(t, 8, 5, func() error {
					err := n.Use(context.Background(), nil, "LTAIkey", "n1", time.Now().Add(15*time.Minute))
					if errors.Is(err, camsd.ErrNonceUsed) || errors.Is(err, camsd.ErrNonceStoreFull) {
						t.Errorf("Use = %v: Redis did not say so", err)
					}
					return err
				})
			})

			t.Run("flow control errs in bounded time", func(t *testing.T) {
				l := redisstore.NewLimiter(c, "camsd:")
				timed(t, 8, 5, func() error {
					_, err := l.Allow(context.Background(), "acct", 10)
					return err
				})
			})

			t.Run("Ping errs in bounded time", func(t *testing.T) {
				timed(t, 2, 3, func() error { return c.Ping(context.Background()) })
			})

			t.Run("Fallback decides per replica and counts", func(t *testing.T) {
				f := &redisstore.Fallback{Shared: redisstore.NewLimiter(c, "camsd:"), Local: ratelimit.New()}
				for i := range 5 {
					start := time.Now()
					d, err := f.Allow(context.Background(), "acct", 3)
					if took := time.Since(start); took > bound {
						t.Errorf("call %d took %v, want under %v", i, took, bound)
					}
					if err != nil {
						t.Fatalf("call %d: %v", i, err)
					}
					if want := i < 3; d.Allowed != want {
						t.Errorf("call %d: Allowed = %v, want %v (limit 3)", i, d.Allowed, want)
					}
				}
				if got := f.Fallbacks(); got != 5 {
					t.Errorf("Fallbacks() = %d, want 5", got)
				}
			})
		})
	}
}

func TestUnavailable_notForCallerOrBug(t *testing.T) {
	t.Run("the caller giving up is not Redis being down", func(t *testing.T) {
		c := openDown(t, silentServer(t))
		ctx, cancel := context.WithTimeout(context.Background(), timeout/5)
		defer cancel()
		err := redisstore.NewNonces(c, "camsd:", 0).Use(ctx, nil, "LTAIkey", "n1", time.Now().Add(time.Minute))
		if err == nil || errors.Is(err, redisstore.ErrUnavailable) {
			t.Errorf("Use = %v, want an error that does not wrap ErrUnavailable", err)
		}
	})

	t.Run("an error reply that a retry would repeat", func(t *testing.T) {
		c := openDown(t, erringServer(t, "ERR Error running script: bad"))
		f := &redisstore.Fallback{Shared: redisstore.NewLimiter(c, "camsd:"), Local: ratelimit.New()}
		_, err := f.Allow(context.Background(), "acct", 1)
		if err == nil || errors.Is(err, redisstore.ErrUnavailable) {
			t.Errorf("Allow = %v, want an error that does not wrap ErrUnavailable", err)
		}
		if f.Fallbacks() != 0 {
			t.Errorf("Fallbacks() = %d, want 0", f.Fallbacks())
		}
	})
}

func TestFallback_redisAnswers(t *testing.T) {
	f := &redisstore.Fallback{
		Shared: redisstore.NewLimiter(open(t, contractTimeout), prefix(t)),
		Local:  ratelimit.New(),
	}
	for i := range 3 {
		d, err := f.Allow(t.Context(), "acct", 2)
		if err != nil {
			t.Fatal(err)
		}
		if want := i < 2; d.Allowed != want {
			t.Errorf("call %d: Allowed = %v, want %v", i, d.Allowed, want)
		}
	}
	if _, err := f.Allow(t.Context(), "acct", 0); err == nil {
		t.Error("limit 0 gave no error")
	}
	if f.Fallbacks() != 0 {
		t.Errorf("Fallbacks() = %d, want 0", f.Fallbacks())
	}
}

func TestClient_Ping(t *testing.T) {
	if err := open(t, timeout).Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	for _, url := range []string{"", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/x"} {
		if _, err := redisstore.Open(url, timeout); err == nil {
			t.Errorf("Open(%q) gave no error", url)
		}
	}
}

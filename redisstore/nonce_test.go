package redisstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/redisstore"
	"github.com/camsd/camsd/storetest"
)

// The NonceStore contract, with the time set by the test.
func TestNonces(t *testing.T) {
	storetest.RunNonces(t, func(t *testing.T, maxLive int) (camsd.NonceStore, func(time.Time)) {
		n := redisstore.NewNonces(open(t, contractTimeout), prefix(t), maxLive)
		var mu sync.Mutex
		now := storetest.T0
		redisstore.SetNoncesClock(n, func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		})
		return n, func(t time.Time) {
			mu.Lock()
			defer mu.Unlock()
			now = t
		}
	})
}

func TestNonces_Use(t *testing.T) {
	const window = 15 * time.Minute

	t.Run("a nonce is accepted once across replicas", func(t *testing.T) {
		p := prefix(t)
		a := redisstore.NewNonces(open(t, contractTimeout), p, 0)
		b := redisstore.NewNonces(open(t, contractTimeout), p, 0)
		exp := time.Now().Add(window)
		if err := a.Use(t.Context(), nil, "LTAIkey", "n1", exp); err != nil {
			t.Fatalf("first use on replica a: %v", err)
		}
		if err := b.Use(t.Context(), nil, "LTAIkey", "n1", exp); !errors.Is(err, camsd.ErrNonceUsed) {
			t.Fatalf("replayed on replica b: %v, want %v", err, camsd.ErrNonceUsed)
		}
	})

	t.Run("one nonce sent to many replicas at once is accepted exactly once", func(t *testing.T) {
		p := prefix(t)
		var replicas []*redisstore.Nonces
		for range 3 {
			replicas = append(replicas, redisstore.NewNonces(open(t, contractTimeout), p, 0))
		}
		trials, callers := 200, 12
		if testing.Short() {
			trials = 50
		}
		deadline := time.Now().Add(30 * time.Second)
		exp := time.Now().Add(window)
		for trial := range trials {
			if time.Now().After(deadline) {
				t.Fatalf("only %d trials in 30s", trial)
			}
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					errs[i] = replicas[i%len(replicas)].Use(t.Context(), nil, "LTAIkey", fmt.Sprint("n", trial), exp)
				})
			}
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, camsd.ErrNonceUsed):
					t.Fatalf("trial %d caller %d: %v", trial, i, err)
				}
			}
			if won != 1 {
				t.Fatalf("trial %d: %d of %d callers accepted", trial, won, callers)
			}
		}
	})

	t.Run("expiry is Redis's, and the key goes with its last nonce", func(t *testing.T) {
		p := prefix(t)
		n, rdb := redisstore.NewNonces(open(t, contractTimeout), p, 0), rawClient(t)
		now, err := rdb.Time(t.Context()).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Use(t.Context(), nil, "LTAIkey", "short", now.Add(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := n.Use(t.Context(), nil, "LTAIkey", "short", now.Add(time.Second)); !errors.Is(err, camsd.ErrNonceUsed) {
			t.Fatalf("before it expired: %v, want %v", err, camsd.ErrNonceUsed)
		}
		ttl := rdb.PTTL(t.Context(), p+"nonce:LTAIkey").Val()
		if ttl <= 0 || ttl > 310*time.Millisecond {
			t.Errorf("PTTL = %v, want about 300ms", ttl)
		}
		time.Sleep(400 * time.Millisecond)
		if rdb.Exists(t.Context(), p+"nonce:LTAIkey").Val() != 0 {
			t.Error("the key outlived its last nonce")
		}
		if err := n.Use(t.Context(), nil, "LTAIkey", "short", now.Add(window)); err != nil {
			t.Fatalf("after it expired: %v", err)
		}
	})
}

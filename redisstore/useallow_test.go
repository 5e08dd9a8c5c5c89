package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/limitertest"
	"github.com/camsd/camsd/redisstore"
)

// nonceLimiter is a camsd.Limiter made of Nonces.Use with an Admission: each decision comes
// with a new nonce, as a call's does, so that the limiter contract judges the decisions the
// nonce's script makes.
type nonceLimiter struct {
	n   *redisstore.Nonces
	seq atomic.Uint64
}

func (l *nonceLimiter) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	call := &camsd.Call{Admission: &camsd.Admission{Key: key, Limit: limit}}
	nonce := fmt.Sprint("n", l.seq.Add(1))
	if err := l.n.Use(ctx, call, "LTAIkey", nonce, time.Now().Add(time.Hour)); err != nil {
		return camsd.Decision{}, err
	}
	if !call.Admission.Decided {
		return camsd.Decision{}, errors.New("the nonce's script made no decision")
	}
	return call.Admission.Decision, nil
}

// TestNonces_useAllow: the decisions made with a nonce, in one script, are the limiter
// contract's, exactly as the Limiter's own.
func TestNonces_useAllow(t *testing.T) {
	limitertest.RunWithClock(t, func(t *testing.T, now func() time.Time) camsd.Limiter {
		n := redisstore.NewNonces(open(t, contractTimeout), prefix(t), 0)
		redisstore.SetNoncesClock(n, now)
		return &nonceLimiter{n: n}
	})
}

// A nonce used already makes no decision and is refused as before; a decision made with a
// nonce counts for the Limiter on the same prefix, and the other way round.
func TestNonces_useAllowShared(t *testing.T) {
	c, p := open(t, contractTimeout), prefix(t)
	n, l := redisstore.NewNonces(c, p, 0), redisstore.NewLimiter(c, p)
	exp := time.Now().Add(time.Minute)
	use := func(nonce string) (*camsd.Admission, error) {
		a := &camsd.Admission{Key: "acct/Act", Limit: 2}
		return a, n.Use(t.Context(), &camsd.Call{Admission: a}, "k", nonce, exp)
	}
	if a, err := use("n1"); err != nil || !a.Decided || !a.Decision.Allowed {
		t.Fatalf("first call: %+v, %v; want admitted", a, err)
	}
	if a, err := use("n1"); !errors.Is(err, camsd.ErrNonceUsed) || a.Decided {
		t.Fatalf("replay: %+v, %v; want ErrNonceUsed and no decision", a, err)
	}
	if d, err := l.Allow(t.Context(), "acct/Act", 2); err != nil || !d.Allowed {
		t.Fatalf("the Limiter's second: %+v, %v; want admitted (the replay was not counted)", d, err)
	}
	if a, err := use("n2"); err != nil || !a.Decided || a.Decision.Allowed || a.Decision.RetryAfter <= 0 {
		t.Fatalf("third in the second: %+v, %v; want refused with a wait", a, err)
	}
}

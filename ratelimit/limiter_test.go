package ratelimit_test

import (
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/limitertest"
	"github.com/camsd/camsd/ratelimit"
)

func TestLimiter(t *testing.T) {
	limitertest.Run(t, func(*testing.T) camsd.Limiter { return ratelimit.New() })
}

func TestLimiter_clock(t *testing.T) {
	limitertest.RunWithClock(t, func(_ *testing.T, now func() time.Time) camsd.Limiter {
		return &ratelimit.Limiter{Now: now}
	})
}

func TestLimiter_zero(t *testing.T) {
	t.Run("the zero Limiter uses the real clock", func(t *testing.T) {
		var l ratelimit.Limiter
		before := time.Now()
		d, err := l.Allow(t.Context(), "acct", 1)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.At.Before(before) || d.At.After(time.Now()) {
			t.Fatalf("got %+v, want admitted at a time after %v", d, before)
		}
	})
}

package graph

import (
	"sync"
	"time"
)

// BreakerState is the state of a Client's circuit breaker.
type BreakerState int

const (
	// BreakerClosed: attempts go through; consecutive transient failures are counted.
	BreakerClosed BreakerState = iota
	// BreakerOpen: attempts fail at once with ErrBreakerOpen, without touching the network,
	// until the cool-down has passed.
	BreakerOpen
	// BreakerHalfOpen: the cool-down has passed; the next attempt is a probe, and others fail
	// at once while it is in flight. Its success closes the breaker, its failure reopens it.
	BreakerHalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return "unknown"
}

// verdict is what one attempt tells the breaker.
type verdict int

const (
	verdictSuccess verdict = iota // Graph answered (even with an error that is not transient)
	verdictFailure                // a transient failure: no answer, 5xx, transient or throttled
	verdictNeutral                // the caller gave up: says nothing about Graph
)

type breakerConfig struct {
	threshold int // < 0: disabled
	cooldown  time.Duration
}

func (c *Client) breakerConfig() breakerConfig {
	cfg := breakerConfig{threshold: c.BreakerThreshold, cooldown: c.BreakerCooldown}
	if cfg.threshold == 0 {
		cfg.threshold = DefaultBreakerThreshold
	}
	if cfg.cooldown <= 0 {
		cfg.cooldown = DefaultBreakerCooldown
	}
	return cfg
}

// breaker counts consecutive transient failures of attempts, whatever the call. It is
// driven by the clock it is given, so tests can step through a cool-down.
type breaker struct {
	mu        sync.Mutex
	state     BreakerState
	failures  int       // consecutive, while closed
	openUntil time.Time // while open
	probing   bool      // while half-open: the probe is in flight
	opens     int64
}

// allow decides whether an attempt may go to Graph now; probe is set for the one attempt let
// through while half-open, whose verdict must be recorded with probe set.
func (b *breaker) allow(now time.Time, cfg breakerConfig) (probe, ok bool) {
	if cfg.threshold < 0 {
		return false, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen {
		if now.Before(b.openUntil) {
			return false, false
		}
		b.state = BreakerHalfOpen
	}
	if b.state == BreakerClosed {
		return false, true
	}
	if b.probing {
		return false, false
	}
	b.probing = true
	return true, true
}

// record takes the verdict of an attempt that allow admitted.
func (b *breaker) record(now time.Time, probe bool, v verdict, cfg breakerConfig) {
	if cfg.threshold < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	switch v {
	case verdictSuccess:
		b.failures = 0
		if probe {
			b.state = BreakerClosed
		}
	case verdictFailure:
		if probe {
			b.trip(now, cfg)
			return
		}
		// A failure that started before the breaker opened adds nothing.
		if b.state == BreakerClosed {
			b.failures++
			if b.failures >= cfg.threshold {
				b.trip(now, cfg)
			}
		}
	}
}

func (b *breaker) trip(now time.Time, cfg breakerConfig) {
	b.state = BreakerOpen
	b.openUntil = now.Add(cfg.cooldown)
	b.failures = 0
	b.opens++
}

// snapshot returns the state as of now (open turns half-open once the cool-down has passed)
// and how many times the breaker has opened.
func (b *breaker) snapshot(now time.Time) (BreakerState, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && !now.Before(b.openUntil) {
		return BreakerHalfOpen, b.opens
	}
	return b.state, b.opens
}

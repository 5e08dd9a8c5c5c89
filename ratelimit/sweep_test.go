package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// keysHeld counts the windows the limiter holds, across shards.
func keysHeld(l *Limiter) int {
	n := 0
	for i := range l.shards {
		n += len(l.shards[i].keys)
	}
	return n
}

// probes returns one key per shard, so that a round of calls gives every shard its sweep.
func probes() []string {
	keys := make([]string, shardCount)
	found := 0
	for i := 0; found < shardCount; i++ {
		k := fmt.Sprintf("probe-%d", i)
		if s := shardOf(k); keys[s] == "" {
			keys[s] = k
			found++
		}
	}
	return keys
}

func TestLimiter_sweep(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	l := &Limiter{Now: func() time.Time { return now }}
	call := func(key string, limit int) bool {
		t.Helper()
		d, err := l.Allow(context.Background(), key, limit)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed
	}
	for i := range 5000 {
		call(fmt.Sprintf("old-%d", i), 1)
	}
	now = t0.Add(500 * time.Millisecond)
	call("live", 1)

	now = t0.Add(1200 * time.Millisecond)
	for _, k := range probes() {
		call(k, 1)
	}
	// The 5000 keys idle since t0 are gone; "live" (admitted 700ms ago) and the probes stay.
	if got, want := keysHeld(l), shardCount+1; got != want {
		t.Fatalf("%d keys held after the sweep, want %d", got, want)
	}
	if call("live", 1) {
		t.Fatal("live key admitted twice within a second: the sweep dropped a key in use")
	}
	if !call("old-0", 1) {
		t.Fatal("dropped key refused after an idle second")
	}

	// A second sweep before a second of clock time has passed does nothing.
	now = t0.Add(2100 * time.Millisecond)
	for _, k := range probes() {
		call(k, 1)
	}
	if got := keysHeld(l); got != shardCount+2 {
		t.Fatalf("%d keys held, want %d: swept again within a second", got, shardCount+2)
	}
}

func TestShard_sweepShrinksMap(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var s shard
	s.read(func() time.Time { return t0 })
	for i := range 2000 {
		w := new(window)
		w.allow(0, 1)
		s.add(fmt.Sprint(i), w)
	}
	s.sweep(2 * time.Second)
	if len(s.keys) != 0 || s.peak != 0 {
		t.Fatalf("after the sweep: %d keys, peak %d; want 0 and 0 (map rebuilt)", len(s.keys), s.peak)
	}
}

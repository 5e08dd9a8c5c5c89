package redisstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd/redisstore"
)

// BenchmarkRedisLimiter measures decisions against the test Redis, one round trip each, from
// 8 callers per CPU at once as a busy replica makes them (so ns/op is the inverse of the
// throughput, not one call's latency).
// OneKey is every caller on one account (all but 10 calls a second refused); ManyKeys spreads
// callers over 10 000 accounts (mostly admissions).
func BenchmarkRedisLimiter(b *testing.B) {
	l := redisstore.NewLimiter(open(b, contractTimeout), prefix(b))
	b.Run("OneKey", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(b.Context(), "acct", 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("ManyKeys", func(b *testing.B) {
		keys := make([]string, 10000)
		for i := range keys {
			keys[i] = "acct-" + strconv.Itoa(i)
		}
		var next atomic.Uint64
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(7919)) // start callers at different keys
			for pb.Next() {
				if _, err := l.Allow(b.Context(), keys[i%len(keys)], 10); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

// BenchmarkRedisNonce measures recording distinct nonces of one AccessKey, one round trip
// each, with the sqlite store's default bound, from 8 callers per CPU at once.
func BenchmarkRedisNonce(b *testing.B) {
	n := redisstore.NewNonces(open(b, contractTimeout), prefix(b), 1_000_000)
	var next atomic.Uint64
	exp := time.Now().Add(time.Minute)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := n.Use(b.Context(), nil, "LTAIkey", strconv.FormatUint(next.Add(1), 10), exp); err != nil {
				b.Fatal(err)
			}
		}
	})
}

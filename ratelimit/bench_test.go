package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/camsd/camsd/ratelimit"
)

// BenchmarkAllow measures decisions on the real clock. OneKey is every caller on one account
// (all but 10 calls a second refused: the lock and clock cost); ManyKeys spreads callers over
// 10 000 accounts and shards (mostly admissions, with window growth and sweeps).
func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	b.Run("OneKey", func(b *testing.B) {
		l := ratelimit.New()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(ctx, "acct", 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("ManyKeys", func(b *testing.B) {
		l := ratelimit.New()
		keys := make([]string, 10000)
		for i := range keys {
			keys[i] = "acct-" + strconv.Itoa(i)
		}
		var next atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(7919)) // start callers at different keys
			for pb.Next() {
				if _, err := l.Allow(ctx, keys[i%len(keys)], 10); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

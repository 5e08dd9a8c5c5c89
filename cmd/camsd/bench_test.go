package main

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkRequestPath measures GetMigrationVerifyCode through the whole request path over
// loopback HTTP (signature, nonce, flow control, subscription, the action and its durable
// writes) beside a bare net/http handler that returns the same JSON without any checks.
// `camsd bench` runs the same in alternating rounds and reports medians.
func BenchmarkRequestPath(b *testing.B) {
	env, err := startBenchEnv(benchConfig{DataDir: b.TempDir(), Numbers: 1000, Signature: "v3", Path: "ok"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(env.Close)
	const concurrency = 32
	client := loadClient(concurrency)
	for _, tc := range []struct {
		name   string
		target loadTarget
	}{{"bare", env.bare}, {"camsd", env.camsd}} {
		b.Run(tc.name, func(b *testing.B) {
			calls, err := presign(tc.target, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			res := runLoad(context.Background(), client, calls, concurrency, http.StatusOK)
			b.StopTimer()
			if res.Failed > 0 {
				b.Fatalf("%d of %d calls failed", res.Failed, res.Requests)
			}
			b.ReportMetric(res.RPS(), "req/s")
			b.ReportMetric(float64(res.Percentile(0.99).Microseconds()), "p99-µs")
		})
	}
}

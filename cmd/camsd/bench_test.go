package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkRequestPath measures GetMigrationVerifyCode through the whole request path over
// loopback HTTP (signature, nonce, flow control, subscription, the action and its durable
// writes) beside a bare net/http handler that returns the same JSON without any checks, at
// 32 clients (where camsd waits for its fsyncs with CPU to spare) and at 256 (where both are
// CPU-bound). `camsd bench` runs the same in alternating rounds and reports medians.
func BenchmarkRequestPath(b *testing.B) {
	env, err := startBenchEnv(benchConfig{DataDir: b.TempDir(), Numbers: 1000, Signature: "v3", Path: "ok"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(env.Close)
	for _, concurrency := range []int{32, 256} {
		client := loadClient(concurrency)
		for _, tc := range []struct {
			name   string
			target loadTarget
		}{{"bare", env.bare}, {"camsd", env.camsd}} {
			b.Run(fmt.Sprintf("clients=%d/%s", concurrency, tc.name), func(b *testing.B) {
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
				if cpu := res.CPUPerCall(); cpu > 0 {
					b.ReportMetric(float64(cpu.Nanoseconds()), "cpu-ns/call")
				}
			})
		}
		client.CloseIdleConnections()
	}
}

// BenchmarkHandler measures what camsd's own code costs per GetMigrationVerifyCode call, its
// store included, without the network and the HTTP server: the handler is called in this
// process by 256 goroutines at once (so that calls share group commits as under load), and
// cpu-ns/call is the process's CPU time per call. Requests are signed before the clock starts;
// making each *http.Request is counted.
func BenchmarkHandler(b *testing.B) {
	env, err := startBenchEnv(benchConfig{DataDir: b.TempDir(), Numbers: 1000, Signature: "v3", Path: "ok"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(env.Close)
	h := env.main.HTTP.Handler
	calls, err := presign(env.camsd, b.N)
	if err != nil {
		b.Fatal(err)
	}
	var next, failed atomic.Int64
	b.SetParallelism(max(1, 256/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := calls[next.Add(1)-1]
			r := httptest.NewRequest(c.method, c.url, nil)
			for k, v := range c.header {
				r.Header[k] = v
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d calls failed", n, b.N)
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/call")
	}
}

// TestBench_sweep runs the load command at two client counts, briefly, and checks that it
// reports both and compares the peaks.
func TestBench_sweep(t *testing.T) {
	var out, errOut strings.Builder
	code := runBench(t.Context(), []string{"--rounds", "1", "--requests", "200", "--concurrency", "2, 8", "--numbers", "50", "--data-dir", t.TempDir()}, &out, &errOut)
	if code != 0 {
		t.Fatalf("camsd bench exited %d: %s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"2 clients median  bare", "8 clients median  bare", "\n   2 clients  bare", "\n   8 clients  bare", "\npeaks   bare "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := runBench(t.Context(), []string{"--concurrency", "32,x"}, &out, &errOut); code != 2 {
		t.Errorf("--concurrency 32,x: exit %d; want 2", code)
	}
}

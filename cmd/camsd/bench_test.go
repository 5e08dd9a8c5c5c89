package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
	code := runBench(t.Context(), []string{"--rounds", "1", "--requests", "200", "--concurrency", "2, 8", "--numbers", "50", "--accounts", "50", "--data-dir", t.TempDir()}, &out, &errOut)
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

// runBenchOK runs `camsd bench` with args, briefly, and returns what it printed, failing the
// test unless it exited 0.
func runBenchOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	start := time.Now()
	code := runBench(t.Context(), append([]string{"--rounds", "1", "--requests", "200", "--data-dir", t.TempDir()}, args...), &out, &errOut)
	if code != 0 {
		t.Fatalf("camsd bench %v exited %d: %s%s", args, code, out.String(), errOut.String())
	}
	t.Logf("camsd bench %v: %v\n%s", args, time.Since(start).Round(time.Millisecond), out.String())
	return out.String()
}

// wantLines checks that out holds each of want.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

var codeShare = regexp.MustCompile(`(?m)^\d+ clients round \d+/\d+  camsd .* codes OK ([0-9.]+)% LimitControl ([0-9.]+)% other ([0-9.]+)%`)

// camsdShares are the shares (in %) of OK, System.LimitControl and other replies of each
// camsd round printed in out.
func camsdShares(t *testing.T, out string) [][3]float64 {
	t.Helper()
	var shares [][3]float64
	for _, m := range codeShare.FindAllStringSubmatch(out, -1) {
		var s [3]float64
		for i := range s {
			s[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		shares = append(shares, s)
	}
	if len(shares) == 0 {
		t.Fatalf("no camsd round reports its codes:\n%s", out)
	}
	return shares
}

// wantMostlyOK: every camsd round's replies were at least 99% OK.
func wantMostlyOK(t *testing.T, out string) {
	t.Helper()
	for _, s := range camsdShares(t, out) {
		if s[0] < 99 {
			t.Errorf("a camsd round's replies were %.1f%% OK, %.1f%% LimitControl, %.1f%% other; want at least 99%% OK", s[0], s[1], s[2])
		}
	}
}

// TestBench_accounts: the default load, many accounts at their limit, here 10 accounts at 10
// calls/s (ceiling 100 calls/s), so that the 200 calls of a round must wait for the limits:
// every reply is still OK, the load says it was paced, and the codes are reported.
func TestBench_accounts(t *testing.T) {
	out := runBenchOK(t, "--accounts", "10", "--concurrency", "4")
	wantLines(t, out,
		"tenants: 10 accounts x 2 AccessKeys, 1000 numbers; limit 10 calls/s per account per action",
		"4 clients median  bare ", "4 clients camsd    codes OK 100.0%",
		"4 clients note    camsd's codes/s")
	wantMostlyOK(t, out)

	// 2 accounts admit 20 calls/s: a round of 200 calls meets --round-time first.
	out = runBenchOK(t, "--accounts", "2", "--concurrency", "4", "--round-time", "1s")
	wantLines(t, out, "4 clients round 1/1  camsd  cut at --round-time 1s: ")
	wantMostlyOK(t, out)
}

// TestBench_singleKey: --accounts 1 --keys 1 --qps 0 is the old bench, one key at no limit;
// --path limited is refused by flow control nearly always.
func TestBench_singleKey(t *testing.T) {
	out := runBenchOK(t, "--accounts", "1", "--keys", "1", "--qps", "0", "--concurrency", "8")
	wantLines(t, out, "tenants: 1 accounts x 1 AccessKeys, 1000 numbers; no limit (calls not paced)")
	wantMostlyOK(t, out)

	out = runBenchOK(t, "--path", "limited", "--accounts", "5", "--concurrency", "8")
	wantLines(t, out, "every call on the first account")
	for _, s := range camsdShares(t, out) {
		if s[1] < 80 {
			t.Errorf("--path limited: %.1f%% LimitControl; want most", s[1])
		}
	}
}

// TestBench_mix: two of four clients walk the migration flow; the flow's steps are reported
// beside the hot path's, and no flow fails.
func TestBench_mix(t *testing.T) {
	out := runBenchOK(t, "--accounts", "40", "--concurrency", "4", "--mix", "2")
	wantLines(t, out, "2 of the clients walk the migration flow", "camsd  flow  ", " outbox p50 ", " initiate to verify p50 ",
		" whole flow p50 ", "4 clients median  hot path p50 ", " 0 failed\n",
		"4 clients median  flow p99 / hot path p99: initiate to verify ")
	wantMostlyOK(t, out)
	if m := regexp.MustCompile(`(\d+) flows done, 0 failed`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("no flow done: %v", m)
	}
}

// TestBench_warmup: camsd's warm-up rounds run first at each client count and are not
// counted; --warmup 0 has none.
func TestBench_warmup(t *testing.T) {
	out := runBenchOK(t, "--accounts", "10", "--concurrency", "4", "--warmup", "2")
	wantLines(t, out, "2 warm-up rounds of camsd first", "4 clients warm-up 1/2  camsd ", "4 clients warm-up 2/2  camsd ",
		"4 clients round 1/1  camsd ")
	if i, j := strings.Index(out, "warm-up 2/2"), strings.Index(out, "round 1/1"); i > j {
		t.Error("a warm-up round after a measured one")
	}
	if n := strings.Count(out, "clients round 1/1  camsd "); n != 1 {
		t.Errorf("%d measured camsd rounds; want 1", n)
	}
	out = runBenchOK(t, "--accounts", "10", "--concurrency", "4", "--warmup", "0")
	if strings.Contains(out, "clients warm-up") {
		t.Errorf("--warmup 0 ran a warm-up round:\n%s", out)
	}
}

// TestBench_flags: what cannot be measured is refused.
func TestBench_flags(t *testing.T) {
	for _, args := range [][]string{
		{"--replicas", "2"}, // replicas need --database
		{"--concurrency", "4", "--mix", "5"},
		{"--mix", "1", "--path", "badsig"},
		{"--accounts", "0"},
		{"--round-time", "0s"},
		{"--warmup", "-1"},
	} {
		var out, errOut strings.Builder
		if code := runBench(t.Context(), args, &out, &errOut); code != 2 {
			t.Errorf("camsd bench %v: exit %d; want 2 (%s)", args, code, errOut.String())
		}
	}
}

// TestBench_replicas: two replicas on PostgreSQL and Redis behind the load's round-robin, the
// flow among the load; the CPU of PostgreSQL and Redis is reported, the replies are OK, and
// the run's keys in Redis are gone at the end.
func TestBench_replicas(t *testing.T) {
	needServices(t)
	database := freshDatabase(t)
	out := runBenchOK(t, "--replicas", "2", "--database", database, "--redis", testRedisURL(),
		"--accounts", "20", "--concurrency", "4", "--mix", "1")
	wantLines(t, out, "store PostgreSQL+Redis", "2 replica(s)", "camsd  flow  ",
		"cpu/call by process, camsd rounds: camsd+loadgen ", ", postgres ", ", redis-server ")
	wantMostlyOK(t, out)
	m := regexp.MustCompile(`Redis prefix (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no Redis prefix printed")
	}
	opt, err := redis.ParseURL(testRedisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	if keys, _, err := c.Scan(t.Context(), 0, m[1]+"*", 1000).Result(); err != nil || len(keys) > 0 {
		t.Errorf("keys under %s after the run: %v (%v)", m[1], keys, err)
	}
}

// The load generator's clients keep one connection to each server they call: with several
// replicas, calls spread over them do not close and dial connections (which would bill the
// replicas' runs for TCP handshakes a one-replica run does not pay).
func TestLoadClient_keepsConnectionsToEveryReplica(t *testing.T) {
	const clients, calls = 8, 200
	var servers []*httptest.Server
	var dialed []*atomic.Int64
	for range 3 {
		n := &atomic.Int64{}
		s := httptest.NewUnstartedServer(bareHandler())
		s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				n.Add(1)
			}
		}
		s.Start()
		t.Cleanup(s.Close)
		servers, dialed = append(servers, s), append(dialed, n)
	}
	client := loadClient(clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range calls {
				resp, err := client.Get(servers[(c+i)%len(servers)].URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	// About one connection per client and server, however many calls: net/http may dial a
	// spare when a call starts before the connection of the one before is back in the idle
	// pool (seen once, 9 for 8 clients, on a busy machine); a client that closed and dialed
	// connections all the time would dial hundreds.
	for i, n := range dialed {
		if got := n.Load(); got > 2*clients {
			t.Errorf("server %d: %d connections dialed for %d clients making %d calls each", i, got, clients, calls)
		}
	}
}

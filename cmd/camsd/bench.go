package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// benchConfig is what `camsd bench` takes.
type benchConfig struct {
	Rounds      int
	Warmup      int // unmeasured camsd rounds before the measured ones, at each client count
	Requests    int
	Concurrency []int // client counts, each measured in turn
	Signature   string
	DataDir     string
	Numbers     int
	Path        string
	Database    string // as serve's --database: PostgreSQL instead of SQLite
	Redis       string // as serve's --redis
	// CPUProfile, if set, is the prefix of the CPU profiles of camsd's rounds, one per round:
	// <prefix>.<clients>c.r<round>.pprof (go tool pprof takes several at once).
	CPUProfile string

	Accounts  int           // tenant accounts the calls are spread over (0: 1)
	Keys      int           // AccessKeys per account (0: 1)
	QPS       int           // flow-control limit per account per action; 0: none, calls not paced
	Replicas  int           // camsd replicas on one --database (0: 1)
	Mix       int           // of the clients, how many walk the migration flow
	RoundTime time.Duration // a round stops sending when it has run this long (0: a minute)
}

// runBench is `camsd bench`: it starts camsd (one or more replicas) and a bare net/http
// handler that returns the same JSON without any checks, in this process on loopback, and
// measures both with the same closed-loop clients in alternating rounds, reporting medians.
// Every camsd call takes the whole request path: V3 (or V2) signature, nonce, flow control,
// subscription, the action and its durable writes (code record, outbox, delivery status,
// nonce). The calls are spread over many accounts and keys, each kept under its limit.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.Rounds, "rounds", 5, "alternating rounds of each server")
	fs.IntVar(&c.Warmup, "warmup", 1, "unmeasured camsd rounds before the measured ones at each client count, so that every replica's caches (keys, spaces, numbers) are warm, as in a server that has been running")
	fs.IntVar(&c.Requests, "requests", 20000, "requests per round")
	concurrency := fs.String("concurrency", "32,256", "concurrent clients: a count, or a comma-separated list of counts to measure in turn (the peaks of both servers are compared too)")
	fs.StringVar(&c.Signature, "signature", "v3", "v3 (ACS3-HMAC-SHA256, the SDK default) or v2 (HMAC-SHA1)")
	fs.StringVar(&c.DataDir, "data-dir", "", "camsd's data directory (default: a new temporary one)")
	fs.IntVar(&c.Numbers, "numbers", 1000, "MIGRATING numbers the calls are spread over (at least one per account)")
	fs.StringVar(&c.Database, "database", "", "postgres://… to run camsd on PostgreSQL (as serve --database); the bench's tenants stay in it")
	fs.StringVar(&c.Redis, "redis", "", "redis://… for flow control and nonces (as serve --redis), under a key prefix of the run's own, removed at the end")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of each camsd round to `PREFIX`.<clients>c.r<round>.pprof")
	fs.StringVar(&c.Path, "path", "ok", "which path camsd's calls take: ok (a code is sent), limited (refused by flow control, after the signature and the durable nonce), badsig (refused by the signature check)")
	fs.IntVar(&c.Accounts, "accounts", 2000, "tenant accounts the calls are spread over, each with its own space and numbers; each client sticks to its share of them")
	fs.IntVar(&c.Keys, "keys", 2, "AccessKeys per account, used in turn")
	fs.IntVar(&c.QPS, "qps", 10, "flow-control limit per account per action (CAMS's documented limit); clients keep each account under it. 0: no limit and no pacing (with --accounts 1 --keys 1: the old single-key bench)")
	fs.IntVar(&c.Replicas, "replicas", 1, "camsd replicas on the same --database (and --redis); call i of a round goes to replica i mod N")
	fs.IntVar(&c.Mix, "mix", 0, "of the clients, how many walk the whole migration flow per number (initiate, code, outbox, verify, status) while the others send codes")
	fs.DurationVar(&c.RoundTime, "round-time", time.Minute, "longest a round may run; one that reaches it stops sending and says so")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, f := range strings.Split(*concurrency, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			c.Concurrency = nil
			break
		}
		c.Concurrency = append(c.Concurrency, n)
	}
	if c.Rounds < 1 || c.Warmup < 0 || c.Requests < 1 || len(c.Concurrency) == 0 || c.Numbers < 1 || (c.Signature != "v3" && c.Signature != "v2") || benchPaths[c.Path] == nil {
		fmt.Fprintln(stderr, "camsd bench: --rounds, --requests, --numbers and each --concurrency must be positive; --signature v3 or v2; --path ok, limited or badsig")
		return 2
	}
	if err := c.check(); err != nil {
		fmt.Fprintln(stderr, "camsd bench:", err)
		return 2
	}
	if err := bench(ctx, c, stdout); err != nil {
		fmt.Fprintln(stderr, "camsd bench:", err)
		return 1
	}
	return 0
}

// check refuses combinations of the newer flags that cannot be measured.
func (c benchConfig) check() error {
	switch {
	case c.Accounts < 1 || c.Accounts > 1_000_000:
		return fmt.Errorf("--accounts must be 1 to 1000000")
	case c.Keys < 1 || c.Keys > 100:
		return fmt.Errorf("--keys must be 1 to 100")
	case c.QPS < 0:
		return fmt.Errorf("--qps must not be negative")
	case c.Replicas < 1:
		return fmt.Errorf("--replicas must be positive")
	case c.Replicas > 1 && c.Database == "":
		return fmt.Errorf("--replicas %d needs --database: replicas share PostgreSQL", c.Replicas)
	case c.RoundTime <= 0 || c.RoundTime > 10*time.Minute:
		// Calls are signed before a round: they must reach camsd within --max-skew.
		return fmt.Errorf("--round-time must be positive and at most 10m")
	case c.Mix < 0:
		return fmt.Errorf("--mix must not be negative")
	case c.Mix > 0 && c.Path != "ok":
		return fmt.Errorf("--mix is for --path ok")
	case c.Mix > 0 && c.Mix < slices.Max(c.Concurrency) && c.Accounts < 2:
		return fmt.Errorf("--mix with hot-path clients needs --accounts 2 or more: the flow has accounts of its own")
	}
	for _, n := range c.Concurrency {
		if c.Mix > n {
			return fmt.Errorf("--mix %d is more than %d clients", c.Mix, n)
		}
	}
	return nil
}

func bench(ctx context.Context, c benchConfig, out io.Writer) error {
	env, err := startBenchEnv(c)
	if err != nil {
		return err
	}
	defer env.Close()
	c = env.cfg
	store := "SQLite"
	if c.Database != "" {
		store = "PostgreSQL"
	}
	if c.Redis != "" {
		store += "+Redis"
	}
	fmt.Fprintf(out, "camsd bench: %d rounds x %d requests (at most %v each; %d warm-up rounds of camsd first, not counted), clients %v, signature %s, path %s, store %s, GOMAXPROCS %d\n",
		c.Rounds, c.Requests, c.RoundTime, c.Warmup, c.Concurrency, c.Signature, c.Path, store, runtime.GOMAXPROCS(0))
	numbers := 0
	for _, a := range env.accounts {
		numbers += len(a.numbers)
	}
	limit := "no limit (calls not paced)"
	switch {
	case benchPaths[c.Path].oneAccount:
		limit = fmt.Sprintf("limit %d calls/s per account per action, every call on the first account", c.serverQPS())
	case c.paced():
		limit = fmt.Sprintf("limit %d calls/s per account per action, each account's calls kept under it (at most %d calls/s over all accounts)", c.QPS, c.QPS*c.Accounts)
	}
	fmt.Fprintf(out, "tenants: %d accounts x %d AccessKeys, %d numbers; %s; %d replica(s)", c.Accounts, c.Keys, numbers, limit, c.Replicas)
	if c.Mix > 0 {
		fmt.Fprintf(out, "; %d of the clients walk the migration flow", c.Mix)
	}
	if env.redisPrefix != "" {
		fmt.Fprintf(out, "; Redis prefix %s", env.redisPrefix)
	}
	fmt.Fprintln(out)
	var levels []benchLevel
	for _, n := range c.Concurrency {
		l, err := benchAt(ctx, env, c, n, out)
		if err != nil {
			return err
		}
		levels = append(levels, l)
	}
	if len(levels) > 1 {
		// A closed loop measures a server's throughput only at a client count that keeps it
		// busy: camsd's calls each wait for an fsync, so it needs more clients than the bare
		// handler to get there. The peaks compare what each can do at its best.
		pb, pc := levels[0], levels[0]
		for _, l := range levels {
			fmt.Fprintf(out, "%4d clients  bare %6.0f req/s  camsd %6.0f req/s  ratio %.2f\n", l.clients, l.bare, l.camsd, l.camsd/l.bare)
			if l.bare > pb.bare {
				pb = l
			}
			if l.camsd > pc.camsd {
				pc = l
			}
		}
		fmt.Fprintf(out, "peaks   bare %.0f req/s (%d clients), camsd %.0f req/s (%d clients), ratio %.2f\n",
			pb.bare, pb.clients, pc.camsd, pc.clients, pc.camsd/pb.bare)
	}
	return nil
}

// benchLevel is the medians measured at one client count.
type benchLevel struct {
	clients     int
	bare, camsd float64 // req/s
}

// benchProcs are the processes besides this one whose CPU time a round measures.
func (c benchConfig) benchProcs() []string {
	var p []string
	if c.Database != "" {
		p = append(p, "postgres")
	}
	if c.Redis != "" {
		p = append(p, "redis-server")
	}
	return p
}

// benchAt measures both servers with clients concurrent clients in alternating rounds.
func benchAt(ctx context.Context, env *benchEnv, c benchConfig, clients int, out io.Writer) (benchLevel, error) {
	client := loadClient(clients)
	defer client.CloseIdleConnections()
	hot, flowAccts := env.split(clients)
	var bare, full []roundResult
	for r := 1 - c.Warmup; r <= c.Rounds; r++ {
		// Alternate which goes first, so that neither always runs on a warmer machine. A
		// warm-up round (r < 1) is camsd's alone, and not counted.
		warmup := r < 1
		order := []string{"bare", "camsd"}
		if r%2 == 0 {
			order[0], order[1] = order[1], order[0]
		}
		if warmup {
			order = []string{"camsd"}
		}
		for _, name := range order {
			spec := roundSpec{budget: c.Requests, timeCap: c.RoundTime, procs: c.benchProcs(), wantStatus: http.StatusOK}
			accts := hot
			if name == "bare" {
				spec.bases, spec.pacers, spec.hotWorkers = []string{env.bareBase}, env.barePacers, clients
				// With --mix, the bare rounds send codes with every client in every account:
				// the same clients and limits, the flow's calls as codes.
				accts = append(slices.Clone(hot), flowAccts...)
			} else {
				spec.bases, spec.pacers, spec.hotWorkers = env.bases, env.pacers, clients-c.Mix
				spec.wantStatus = benchPaths[c.Path].status
				if c.Mix > 0 {
					spec.flow = &flowSpec{workers: c.Mix, accounts: flowAccts, env: env, signature: c.Signature}
				}
			}
			var err error
			if spec.hotWorkers > 0 {
				if spec.hot, err = env.presignHot(spec.bases, name == "camsd", accts, c.Requests); err != nil {
					return benchLevel{}, err
				}
			}
			var stop func() error
			if name == "camsd" && c.CPUProfile != "" && !warmup {
				if stop, err = startCPUProfile(fmt.Sprintf("%s.%dc.r%d.pprof", c.CPUProfile, clients, r)); err != nil {
					return benchLevel{}, err
				}
			}
			groups0 := env.groupStats()
			res := runRound(ctx, client, spec)
			groups := env.groupStats().minus(groups0)
			if stop != nil {
				if err := stop(); err != nil {
					return benchLevel{}, err
				}
			}
			if ctx.Err() != nil {
				return benchLevel{}, ctx.Err()
			}
			if warmup {
				fmt.Fprintf(out, "%d clients warm-up %d/%d  %-5s  %8.0f req/s  failed %d  %s (not counted)\n",
					clients, r+c.Warmup, c.Warmup, name, res.RPS(), res.Failed, res.CodeLine())
				continue
			}
			fmt.Fprintf(out, "%d clients round %d/%d  %-5s  %8.0f req/s  cpu/call %-7v p50 %-9v p99 %-9v failed %d  %s%s%s\n",
				clients, r, c.Rounds, name, res.RPS(), res.CPUPerCall().Round(time.Microsecond), res.Percentile(0.5).Round(time.Microsecond),
				res.Percentile(0.99).Round(time.Microsecond), res.Failed, res.CodeLine(), procLine(res, spec.procs), groups.line(name))
			if res.Capped {
				fmt.Fprintf(out, "%d clients round %d/%d  %-5s  cut at --round-time %v: %d of %d calls sent\n", clients, r, c.Rounds, name, c.RoundTime, res.Calls, c.Requests)
			}
			if res.Flow != nil {
				fmt.Fprintf(out, "%d clients round %d/%d  %-5s  %s\n", clients, r, c.Rounds, name, res.Flow.Line())
			}
			if name == "bare" {
				bare = append(bare, res)
			} else {
				full = append(full, res)
			}
		}
	}
	mb, mc := median(bare, roundResult.RPS), median(full, roundResult.RPS)
	fmt.Fprintf(out, "%d clients median  bare %.0f req/s, camsd %.0f req/s, ratio %.2f\n", clients, mb, mc, mc/mb)
	cb, cc := median(bare, roundResult.CPUPerCall), median(full, roundResult.CPUPerCall)
	if cb > 0 && cc > 0 {
		fmt.Fprintf(out, "%d clients median  cpu/call (whole process, load generator included): bare %v, camsd %v, ratio %.2f\n",
			clients, cb.Round(time.Microsecond), cc.Round(time.Microsecond), float64(cb)/float64(cc))
	}
	if procs := c.benchProcs(); len(procs) > 0 && cc > 0 {
		// µs per camsd call of each process; the bare rounds' are what the services did
		// meanwhile without camsd (others' work on this machine included).
		line := fmt.Sprintf("%d clients median  cpu/call by process, camsd rounds: camsd+loadgen %v", clients, cc.Round(time.Microsecond))
		sum := cc
		for _, p := range procs {
			d := median(full, func(r roundResult) time.Duration { d, _ := r.ProcPerCall(p); return d })
			db := median(bare, func(r roundResult) time.Duration { d, _ := r.ProcPerCall(p); return d })
			sum += d
			line += fmt.Sprintf(", %s %v (bare rounds %v)", p, d.Round(time.Microsecond), db.Round(time.Microsecond))
		}
		fmt.Fprintf(out, "%s, together %v\n", line, sum.Round(time.Microsecond))
	}
	all := roundResult{Codes: map[string]int{}}
	failed, flowsDone, flowsFailed := 0, 0, 0
	for _, r := range full {
		for k, n := range r.Codes {
			all.Codes[k] += n
		}
		failed += r.Failed
		if r.Flow != nil {
			flowsDone += r.Flow.Done
			flowsFailed += r.Flow.Failed
		}
	}
	fmt.Fprintf(out, "%d clients camsd    %s over all rounds\n", clients, all.CodeLine())
	if c.Mix > 0 {
		line := fmt.Sprintf("%d clients median  hot path p50 %v p99 %v; flow", clients,
			median(full, func(r roundResult) time.Duration { return r.Percentile(0.5) }).Round(time.Microsecond),
			median(full, func(r roundResult) time.Duration { return r.Percentile(0.99) }).Round(time.Microsecond))
		p99 := func(of func(roundResult) []time.Duration) time.Duration {
			return median(full, func(r roundResult) time.Duration { return percentile(of(r), 0.99) })
		}
		for i, step := range append(slices.Clone(flowSteps), "initiate to verify", "whole flow") {
			of := func(r roundResult) []time.Duration {
				switch {
				case i < len(flowSteps):
					return r.Flow.Steps[i]
				case i == len(flowSteps):
					return r.Flow.ToVerify
				}
				return r.Flow.Total
			}
			line += fmt.Sprintf(" %s p50 %v p99 %v,", step,
				median(full, func(r roundResult) time.Duration { return percentile(of(r), 0.5) }).Round(time.Microsecond),
				p99(of).Round(time.Microsecond))
		}
		fmt.Fprintf(out, "%s %d flows done, %d failed\n", strings.TrimSuffix(line, ","), flowsDone, flowsFailed)
		if hot := median(full, func(r roundResult) time.Duration { return r.Percentile(0.99) }); hot > 0 {
			fmt.Fprintf(out, "%d clients median  flow p99 / hot path p99: initiate to verify %.1f, whole flow %.1f\n", clients,
				float64(p99(func(r roundResult) []time.Duration { return r.Flow.ToVerify }))/float64(hot),
				float64(p99(func(r roundResult) []time.Duration { return r.Flow.Total }))/float64(hot))
		}
	}
	if c.paced() {
		hotRPS := median(full, func(r roundResult) float64 { return float64(r.HotCalls) / r.Elapsed.Seconds() })
		if ceiling := float64(len(hot) * c.QPS); len(hot) > 0 && hotRPS >= 0.9*ceiling {
			fmt.Fprintf(out, "%d clients note    camsd's codes/s (%.0f) reach 90%% of the %.0f calls/s its %d accounts may make: the limits pace the load, not camsd; add --accounts to measure its peak\n",
				clients, hotRPS, ceiling, len(hot))
		}
	}
	// The old single-key bench answers every call as its path does; under the limits, a few
	// refusals are tolerated (1%), more mean the load measured something else.
	tolerated := 0
	if c.paced() {
		tolerated = c.Requests * c.Rounds / 100
	}
	if failed > tolerated {
		return benchLevel{}, fmt.Errorf("%d camsd calls did not answer as the %s path does (%s)", failed, c.Path, all.CodeLine())
	}
	if flowsFailed > (flowsDone+flowsFailed)/100 {
		return benchLevel{}, fmt.Errorf("%d of %d migration flows failed", flowsFailed, flowsDone+flowsFailed)
	}
	return benchLevel{clients: clients, bare: mb, camsd: mc}, nil
}

// procLine is a round's CPU time per call of the other processes measured.
func procLine(r roundResult, procs []string) string {
	var b strings.Builder
	for _, p := range procs {
		if d, ok := r.ProcPerCall(p); ok {
			fmt.Fprintf(&b, "  %s %v", p, d.Round(time.Microsecond))
		} else {
			fmt.Fprintf(&b, "  %s n/a", p)
		}
	}
	return b.String()
}

// startCPUProfile starts a CPU profile to the file at path; stop ends it and closes the file.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// median is the median of f over rs (of the middle two, their mean).
func median[R any, T float64 | time.Duration](rs []R, f func(R) T) T {
	if len(rs) == 0 {
		return 0
	}
	v := make([]T, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// benchConfig is what `camsd bench` takes.
type benchConfig struct {
	Rounds      int
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
}

// runBench is `camsd bench`: it starts camsd and a bare net/http handler that returns the same
// JSON without any checks, in this process on loopback, and measures both with the same
// closed-loop client in alternating rounds, reporting medians. Every camsd call takes the
// whole request path: V3 (or V2) signature, nonce, flow control, subscription, the action and
// its durable writes (code record, outbox, delivery status, nonce).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.Rounds, "rounds", 5, "alternating rounds of each server")
	fs.IntVar(&c.Requests, "requests", 20000, "requests per round")
	concurrency := fs.String("concurrency", "32,256", "concurrent clients: a count, or a comma-separated list of counts to measure in turn (the peaks of both servers are compared too)")
	fs.StringVar(&c.Signature, "signature", "v3", "v3 (ACS3-HMAC-SHA256, the SDK default) or v2 (HMAC-SHA1)")
	fs.StringVar(&c.DataDir, "data-dir", "", "camsd's data directory (default: a new temporary one)")
	fs.IntVar(&c.Numbers, "numbers", 1000, "MIGRATING numbers the calls are spread over")
	fs.StringVar(&c.Database, "database", "", "postgres://… to run camsd on PostgreSQL (as serve --database)")
	fs.StringVar(&c.Redis, "redis", "", "redis://… for flow control and nonces (as serve --redis)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of each camsd round to `PREFIX`.<clients>c.r<round>.pprof")
	fs.StringVar(&c.Path, "path", "ok", "which path camsd's calls take: ok (a code is sent), limited (refused by flow control, after the signature and the durable nonce), badsig (refused by the signature check)")
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
	if c.Rounds < 1 || c.Requests < 1 || len(c.Concurrency) == 0 || c.Numbers < 1 || (c.Signature != "v3" && c.Signature != "v2") || benchPaths[c.Path] == nil {
		fmt.Fprintln(stderr, "camsd bench: --rounds, --requests, --numbers and each --concurrency must be positive; --signature v3 or v2; --path ok, limited or badsig")
		return 2
	}
	if err := bench(ctx, c, stdout); err != nil {
		fmt.Fprintln(stderr, "camsd bench:", err)
		return 1
	}
	return 0
}

func bench(ctx context.Context, c benchConfig, out io.Writer) error {
	env, err := startBenchEnv(c)
	if err != nil {
		return err
	}
	defer env.Close()
	store := "SQLite"
	if c.Database != "" {
		store = "PostgreSQL"
	}
	if c.Redis != "" {
		store += "+Redis"
	}
	fmt.Fprintf(out, "camsd bench: %d rounds x %d requests, clients %v, signature %s, path %s, store %s, GOMAXPROCS %d\n",
		c.Rounds, c.Requests, c.Concurrency, c.Signature, c.Path, store, runtime.GOMAXPROCS(0))
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

// benchAt measures both servers with clients concurrent clients in alternating rounds.
func benchAt(ctx context.Context, env *benchEnv, c benchConfig, clients int, out io.Writer) (benchLevel, error) {
	client := loadClient(clients)
	defer client.CloseIdleConnections()
	var bare, full []loadResult
	for r := 1; r <= c.Rounds; r++ {
		// Alternate which goes first, so that neither always runs on a warmer machine.
		order := []string{"bare", "camsd"}
		if r%2 == 0 {
			order[0], order[1] = order[1], order[0]
		}
		for _, name := range order {
			t := env.bare
			if name == "camsd" {
				t = env.camsd
			}
			calls, err := presign(t, c.Requests)
			if err != nil {
				return benchLevel{}, err
			}
			want := http.StatusOK
			if name == "camsd" {
				want = benchPaths[c.Path].status
			}
			var stop func() error
			if name == "camsd" && c.CPUProfile != "" {
				if stop, err = startCPUProfile(fmt.Sprintf("%s.%dc.r%d.pprof", c.CPUProfile, clients, r)); err != nil {
					return benchLevel{}, err
				}
			}
			res := runLoad(ctx, client, calls, clients, want)
			if stop != nil {
				if err := stop(); err != nil {
					return benchLevel{}, err
				}
			}
			if ctx.Err() != nil {
				return benchLevel{}, ctx.Err()
			}
			fmt.Fprintf(out, "%d clients round %d/%d  %-5s  %8.0f req/s  cpu/call %-7v p50 %-9v p99 %-9v failed %d\n",
				clients, r, c.Rounds, name, res.RPS(), res.CPUPerCall().Round(time.Microsecond), res.Percentile(0.5).Round(time.Microsecond), res.Percentile(0.99).Round(time.Microsecond), res.Failed)
			if name == "bare" {
				bare = append(bare, res)
			} else {
				full = append(full, res)
			}
		}
	}
	mb, mc := medianRPS(bare), medianRPS(full)
	fmt.Fprintf(out, "%d clients median  bare %.0f req/s, camsd %.0f req/s, ratio %.2f\n", clients, mb, mc, mc/mb)
	if cb, cc := medianCPU(bare), medianCPU(full); cb > 0 && cc > 0 {
		fmt.Fprintf(out, "%d clients median  cpu/call (whole process, load generator included): bare %v, camsd %v, ratio %.2f\n",
			clients, cb.Round(time.Microsecond), cc.Round(time.Microsecond), float64(cb)/float64(cc))
	}
	for _, r := range full {
		if r.Failed > 0 {
			return benchLevel{}, fmt.Errorf("%d camsd calls did not answer as the %s path does", r.Failed, c.Path)
		}
	}
	return benchLevel{clients: clients, bare: mb, camsd: mc}, nil
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

func medianRPS(rs []loadResult) float64 { return median(rs, loadResult.RPS) }

func medianCPU(rs []loadResult) time.Duration { return median(rs, loadResult.CPUPerCall) }

// median is the median of f over rs (of the middle two, their mean).
func median[T float64 | time.Duration](rs []loadResult, f func(loadResult) T) T {
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

// benchPath is one way through the request path.
type benchPath struct {
	qps           int  // flow-control limit
	badSecret     bool // sign with the wrong secret
	unknownNumber bool // ask for a number that is not in the space
	status        int  // what every camsd call answers
}

var benchPaths = map[string]*benchPath{
	"ok":      {qps: 1 << 30, status: http.StatusOK},
	"limited": {qps: 10, unknownNumber: true, status: http.StatusBadRequest},
	"badsig":  {qps: 1 << 30, badSecret: true, status: http.StatusBadRequest},
}

// benchEnv is camsd with a benchmark tenant, and the bare baseline, both on loopback.
type benchEnv struct {
	main        *Main
	bareSrv     *http.Server
	camsd, bare loadTarget
	tmp         string
}

// startBenchEnv seeds one account with numbers to spread calls over; flow control still runs
// on every call but its limit is set out of the way, and the resend interval is off, so that
// every call takes the success path.
func startBenchEnv(c benchConfig) (*benchEnv, error) {
	dataDir, numbers, signature := c.DataDir, c.Numbers, c.Signature
	bp := benchPaths[c.Path]
	env := &benchEnv{}
	if dataDir == "" {
		d, err := os.MkdirTemp("", "camsd-bench-")
		if err != nil {
			return nil, err
		}
		env.tmp, dataDir = d, d
	}
	cfg := DefaultServeConfig()
	cfg.Listen, cfg.DataDir, cfg.QPS, cfg.ResendInterval, cfg.MaxNonces = "127.0.0.1:0", dataDir, bp.qps, 0, 10_000_000
	cfg.Database, cfg.Redis = c.Database, c.Redis
	// On a machine the load itself saturates, a 50 ms Redis deadline can pass with Redis
	// healthy, and a nonce that cannot be checked is refused: that is the outage behaviour,
	// not what a throughput figure is about.
	cfg.RedisTimeout = time.Second
	env.main = NewMain(cfg, io.Discard, io.Discard)
	if err := env.main.Open(context.Background()); err != nil {
		env.Close()
		return nil, err
	}
	const uid, key, secret, space = "1999999999999999", "LTAI5tBenchRoot0000001", "benchRootSecret00000000000001", "299999999999999"
	s := camsd.SeedAccount{
		Account:    camsd.Account{UID: uid, Name: "bench", Subscribed: true},
		AccessKeys: []camsd.AccessKey{{ID: key, Secret: secret, UID: uid, Status: camsd.KeyActive}},
		Spaces:     []camsd.SeedSpace{{Space: camsd.Space{CustSpaceID: space, UID: uid, Name: "bench"}}},
	}
	var nums []string
	for i := 0; i < numbers; i++ {
		n := fmt.Sprintf("861390%07d", i)
		nums = append(nums, n)
		s.Spaces[0].PhoneNumbers = append(s.Spaces[0].PhoneNumbers, camsd.PhoneNumber{
			CustSpaceID: space, Number: n, ID: fmt.Sprintf("7%010d", i), Status: camsd.StatusMigrating,
		})
	}
	if err := env.main.DB.ApplySeed(context.Background(), &camsd.Seed{Accounts: []camsd.SeedAccount{s}}); err != nil {
		env.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		env.Close()
		return nil, err
	}
	env.bareSrv = &http.Server{Handler: bareHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = env.bareSrv.Serve(ln) }()
	t := loadTarget{KeyID: key, Secret: secret, CustSpaceID: space, Numbers: nums, Signature: signature}
	env.camsd, env.bare = t, t
	env.camsd.Base = env.main.URL
	if bp.badSecret {
		env.camsd.Secret = "not-the-secret"
	}
	if bp.unknownNumber {
		// The few calls flow control admits answer PhoneNumber.NotFound, like the refused.
		env.camsd.Numbers = []string{"8613000000000"}
	}
	env.bare.Base = "http://" + ln.Addr().String()
	return env, nil
}

func (e *benchEnv) Close() {
	var errs []error
	if e.bareSrv != nil {
		errs = append(errs, e.bareSrv.Close())
	}
	if e.main != nil {
		errs = append(errs, e.main.Close())
	}
	if e.tmp != "" {
		errs = append(errs, os.RemoveAll(e.tmp))
	}
	_ = errors.Join(errs...)
}

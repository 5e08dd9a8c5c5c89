package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/camsd/camsd"
	"github.com/redis/go-redis/v9"
)

// benchPath is one way through the request path.
type benchPath struct {
	qps           int  // flow-control limit when --qps is 0
	badSecret     bool // sign with the wrong secret
	unknownNumber bool // ask for a number that is not in the space
	oneAccount    bool // every call on the first account, unpaced: most are refused
	status        int  // what every camsd call answers
}

var benchPaths = map[string]*benchPath{
	"ok":      {qps: 1 << 30, status: http.StatusOK},
	"limited": {qps: 10, unknownNumber: true, oneAccount: true, status: http.StatusBadRequest},
	"badsig":  {qps: 1 << 30, badSecret: true, status: http.StatusBadRequest},
}

// benchAccount is one of the bench's tenant accounts: its keys, its space and its numbers.
type benchAccount struct {
	uid, space string
	keys       []camsd.AccessKey
	numbers    []string
	flows      atomic.Int64 // numbers the flow clients walked in it, for the next one's number
}

// benchEnv is camsd's replicas with the bench's tenants, and the bare baseline, on loopback.
type benchEnv struct {
	cfg      benchConfig
	mains    []*Main
	main     *Main    // mains[0]
	bases    []string // the replicas' URLs
	bareSrv  *http.Server
	bareBase string
	// camsd and bare are the first account's first key and its numbers (the Go benchmarks').
	camsd, bare loadTarget
	accounts    []*benchAccount
	// pacers keep the calls to camsd within each account's limits, barePacers those to the
	// bare handler alike; nil when the calls are not paced.
	pacers, barePacers pacerSet
	tmp                string
	redisURL           string
	redisPrefix        string // this run's own, removed with its keys at Close
}

// normalized fills what a benchConfig built in code leaves zero.
func (c benchConfig) normalized() benchConfig {
	c.Accounts, c.Keys, c.Replicas = max(c.Accounts, 1), max(c.Keys, 1), max(c.Replicas, 1)
	if c.RoundTime <= 0 {
		c.RoundTime = time.Minute
	}
	return c
}

// paced says whether the load keeps each account under its limit: on the ok path with a limit.
func (c benchConfig) paced() bool { return c.Path == "ok" && c.QPS > 0 }

// serverQPS is camsd's flow-control limit per account per action.
func (c benchConfig) serverQPS() int {
	if c.QPS > 0 && c.Path != "badsig" {
		return c.QPS
	}
	return benchPaths[c.Path].qps
}

// startBenchEnv seeds the accounts, each with its AccessKeys, one space and its share of the
// numbers (MIGRATING; at least one each), and starts the replicas on them. The resend
// interval is off, so that a number may get a code at every call; flow control runs on every
// call, at --qps (out of the way when it is 0).
func startBenchEnv(c benchConfig) (*benchEnv, error) {
	c = c.normalized()
	bp := benchPaths[c.Path]
	env := &benchEnv{cfg: c}
	dataDir := c.DataDir
	if dataDir == "" {
		d, err := os.MkdirTemp("", "camsd-bench-")
		if err != nil {
			return nil, err
		}
		env.tmp, dataDir = d, d
	}
	cfg := DefaultServeConfig()
	cfg.Listen, cfg.DataDir, cfg.QPS, cfg.ResendInterval, cfg.MaxNonces = "127.0.0.1:0", dataDir, c.serverQPS(), 0, 10_000_000
	cfg.Database, cfg.Redis = c.Database, c.Redis
	// On a machine the load itself saturates, a 50 ms Redis deadline can pass with Redis
	// healthy, and a nonce that cannot be checked is refused: that is the outage behaviour,
	// not what a throughput figure is about.
	cfg.RedisTimeout = time.Second
	if c.Redis != "" {
		// A prefix of this run's own: runs sharing a Redis do not see each other's limits
		// and nonces, and Close removes its keys.
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		env.redisURL, env.redisPrefix = c.Redis, "camsd-bench:"+hex.EncodeToString(b)+":"
		cfg.RedisPrefix = env.redisPrefix
	}
	if c.Mix > 0 {
		// The flow reads its code from the outbox right after asking for it; the hot path's
		// codes must not push it out first.
		cfg.SimRetention = 10_000
	}

	env.accounts = benchAccounts(c)
	seed := func(m *Main) error {
		const chunk = 500
		s := benchSeed(env.accounts)
		for i := 0; i < len(s.Accounts); i += chunk {
			part := &camsd.Seed{Accounts: s.Accounts[i:min(i+chunk, len(s.Accounts))]}
			if err := m.DB.ApplySeed(context.Background(), part); err != nil {
				return fmt.Errorf("seed the bench's accounts: %w", err)
			}
		}
		return nil
	}
	for i := 0; i < c.Replicas; i++ {
		m := NewMain(cfg, io.Discard, io.Discard)
		env.mains = append(env.mains, m)
		if err := m.Open(context.Background()); err != nil {
			env.Close()
			return nil, err
		}
		if i == 0 {
			// Seeded before the other replicas start, so that none starts without them.
			if err := seed(m); err != nil {
				env.Close()
				return nil, err
			}
		}
		env.bases = append(env.bases, m.URL)
	}
	env.main = env.mains[0]

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		env.Close()
		return nil, err
	}
	env.bareSrv = &http.Server{Handler: bareHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = env.bareSrv.Serve(ln) }()
	env.bareBase = "http://" + ln.Addr().String()

	a := env.accounts[0]
	t := loadTarget{KeyID: a.keys[0].ID, Secret: a.keys[0].Secret, CustSpaceID: a.space, Numbers: a.numbers, Signature: c.Signature}
	env.camsd, env.bare = t, t
	env.camsd.Base, env.bare.Base = env.main.URL, env.bareBase
	if bp.badSecret {
		env.camsd.Secret = "not-the-secret"
	}
	if bp.unknownNumber {
		// The few calls flow control admits answer PhoneNumber.NotFound, like the refused.
		env.camsd.Numbers = []string{"8613000000000"}
	}
	if c.paced() {
		env.pacers, env.barePacers = newPacerSet(len(env.accounts), c.QPS), newPacerSet(len(env.accounts), c.QPS)
	}
	return env, nil
}

// benchAccounts are the accounts of c: account i has UID 19<i>, space 29<i>, keys
// LTAI5tBench<i>K<k>, and the numbers 861390<n> with n mod accounts = i.
func benchAccounts(c benchConfig) []*benchAccount {
	accts := make([]*benchAccount, c.Accounts)
	for i := range accts {
		a := &benchAccount{uid: fmt.Sprintf("19%014d", i), space: fmt.Sprintf("29%013d", i)}
		for k := 0; k < c.Keys; k++ {
			a.keys = append(a.keys, camsd.AccessKey{
				ID: fmt.Sprintf("LTAI5tBench%07dK%d", i, k), Secret: fmt.Sprintf("benchSecret%07dK%d00000000", i, k),
				UID: a.uid, Status: camsd.KeyActive,
			})
		}
		accts[i] = a
	}
	for n := 0; n < max(c.Numbers, c.Accounts); n++ {
		a := accts[n%len(accts)]
		a.numbers = append(a.numbers, fmt.Sprintf("861390%07d", n))
	}
	return accts
}

func benchSeed(accts []*benchAccount) *camsd.Seed {
	s := &camsd.Seed{}
	for i, a := range accts {
		sa := camsd.SeedAccount{
			Account:    camsd.Account{UID: a.uid, Name: fmt.Sprintf("bench-%d", i), Subscribed: true},
			AccessKeys: a.keys,
			Spaces:     []camsd.SeedSpace{{Space: camsd.Space{CustSpaceID: a.space, UID: a.uid, Name: "bench"}}},
		}
		for _, n := range a.numbers {
			sa.Spaces[0].PhoneNumbers = append(sa.Spaces[0].PhoneNumbers, camsd.PhoneNumber{
				CustSpaceID: a.space, Number: n, ID: "7" + n[len(n)-10:], Status: camsd.StatusMigrating,
			})
		}
		s.Accounts = append(s.Accounts, sa)
	}
	return s
}

// split is which accounts the hot path and the flow use at clients clients: on the limited
// path the first only; with --mix, the flow gets its clients' share of them (at least one),
// the hot path the rest, so that their limits are not shared.
func (e *benchEnv) split(clients int) (hot, flow []int) {
	n := len(e.accounts)
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	switch mix := e.cfg.Mix; {
	case benchPaths[e.cfg.Path].oneAccount:
		return all[:1], nil
	case mix == 0:
		return all, nil
	case mix >= clients:
		return nil, all
	default:
		f := min(max(1, (n*mix+clients/2)/clients), n-1)
		return all[:n-f], all[n-f:]
	}
}

// presignHot signs n GetMigrationVerifyCode calls for a round, spread over the accounts accts
// in turn and, within an account, over its keys and numbers; call i goes to bases[i mod len].
func (e *benchEnv) presignHot(bases []string, camsdCalls bool, accts []int, n int) ([]*hotQueue, error) {
	bp := benchPaths[e.cfg.Path]
	qs := make([]*hotQueue, len(accts))
	for i, a := range accts {
		qs[i] = &hotQueue{account: a, calls: make([]signedCall, 0, n/len(accts)+1)}
	}
	now := time.Now()
	ts := now.UTC().Format("2006-01-02T15:04:05Z")
	for i := 0; i < n; i++ {
		q := qs[i%len(qs)]
		a := e.accounts[q.account]
		k := len(q.calls)
		key := a.keys[k%len(a.keys)]
		t := loadTarget{Base: bases[i%len(bases)], KeyID: key.ID, Secret: key.Secret, Signature: e.cfg.Signature}
		number := a.numbers[k%len(a.numbers)]
		if camsdCalls && bp.badSecret {
			t.Secret = "not-the-secret"
		}
		if camsdCalls && bp.unknownNumber {
			number = "8613000000000"
		}
		nonce, err := newNonce()
		if err != nil {
			return nil, err
		}
		params := map[string]string{"CustSpaceId": a.space, "PhoneNumber": number, "Locale": "en_US", "Method": "sms"}
		if t.Signature == "v2" {
			q.calls = append(q.calls, signV2(t, params, now, nonce))
		} else {
			q.calls = append(q.calls, signV3(t, t.Base[len("http://"):], params, ts, nonce))
		}
	}
	return qs, nil
}

// Close stops the replicas and the bare handler, and removes the temporary data directory
// and this run's keys in Redis. PostgreSQL keeps what the run wrote.
func (e *benchEnv) Close() {
	var errs []error
	if e.bareSrv != nil {
		errs = append(errs, e.bareSrv.Close())
	}
	for _, m := range e.mains {
		errs = append(errs, m.Close())
	}
	if e.tmp != "" {
		errs = append(errs, os.RemoveAll(e.tmp))
	}
	if e.redisPrefix != "" {
		errs = append(errs, dropRedisPrefix(e.redisURL, e.redisPrefix))
	}
	_ = errors.Join(errs...)
}

// dropRedisPrefix deletes the keys whose names start with prefix.
func dropRedisPrefix(redisURL, prefix string) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// groupStats adds up the replicas' grouped writes on PostgreSQL (zero on SQLite).
func (env *benchEnv) groupStats() groupCount {
	var s groupCount
	for _, m := range env.mains {
		if m.pg != nil {
			g := m.pg.GroupStats()
			s.groups, s.writes, s.fallbacks = s.groups+g.Groups, s.writes+g.Writes, s.fallbacks+g.Fallbacks
			s.gathering, s.making = s.gathering+g.Gathering, s.making+g.Making
		}
	}
	return s
}

// groupCount counts the replicas' grouped writes on PostgreSQL.
type groupCount struct {
	groups, writes, fallbacks uint64
	gathering, making         time.Duration
}

func (s groupCount) minus(o groupCount) groupCount {
	return groupCount{s.groups - o.groups, s.writes - o.writes, s.fallbacks - o.fallbacks,
		s.gathering - o.gathering, s.making - o.making}
}

// line says how a camsd round's writes were grouped; "" for the bare handler and SQLite.
func (s groupCount) line(server string) string {
	if server != "camsd" || s.groups == 0 {
		return ""
	}
	n := time.Duration(s.groups)
	return fmt.Sprintf("  groups %d, %.1f writes each, %d fell back, gathered %v and made in %v each",
		s.groups, float64(s.writes)/float64(s.groups), s.fallbacks,
		(s.gathering / n).Round(time.Microsecond), (s.making / n).Round(time.Microsecond))
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/camsd/camsd"
	"github.com/camsd/camsd/limitertest"
	"github.com/camsd/camsd/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The PostgreSQL and Redis the replica tests use: $CAMSD_TEST_POSTGRES and $CAMSD_TEST_REDIS,
// or the ones on this machine.
func testPostgresURL() string {
	if u := os.Getenv("CAMSD_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func testRedisURL() string {
	if u := os.Getenv("CAMSD_TEST_REDIS"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// needServices skips the test when PostgreSQL or Redis is not there, unless CI=true, where
// they must be.
func needServices(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var errs []error
	if conn, err := pgx.Connect(ctx, testPostgresURL()); err != nil {
		errs = append(errs, fmt.Errorf("PostgreSQL at %s: %w", testPostgresURL(), err))
	} else {
		conn.Close(ctx)
	}
	if opt, err := redis.ParseURL(testRedisURL()); err != nil {
		errs = append(errs, err)
	} else {
		c := redis.NewClient(opt)
		if err := c.Ping(ctx).Err(); err != nil {
			errs = append(errs, fmt.Errorf("Redis at %s: %w", testRedisURL(), err))
		}
		c.Close()
	}
	if len(errs) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true requires PostgreSQL and Redis: %v", errs)
	}
	t.Skipf("replica tests need PostgreSQL and Redis (CAMSD_TEST_POSTGRES, CAMSD_TEST_REDIS): %v", errs)
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// freshDatabase makes a schema of its own for the test and returns the --database URL that
// uses it; the schema is dropped when the test ends.
func freshDatabase(t *testing.T) string {
	t.Helper()
	schema := randomName("camsd_t_")
	ctx := context.Background()
	db, err := postgres.Open(ctx, testPostgresURL(), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, testPostgresURL())
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	return testPostgresURL() + "&search_path=" + schema + "&pool_max_conns=16"
}

// replicaConfig is a camsd on the test's PostgreSQL schema and Redis key prefix.
func replicaConfig(t *testing.T, database, prefix string) ServeConfig {
	cfg := testConfig(t)
	cfg.Database = database
	cfg.Redis = testRedisURL()
	cfg.RedisPrefix = prefix
	cfg.MetricsListen = "127.0.0.1:0" // scrapeMetrics
	return cfg
}

// admissions records the decisions of every replica's limiter, at the limiter's clock.
type admissions struct {
	mu sync.Mutex
	at []time.Time
}

type recordingLimiter struct {
	next camsd.Limiter
	rec  *admissions
}

func (l recordingLimiter) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	d, err := l.next.Allow(ctx, key, limit)
	if err == nil && d.Allowed {
		l.rec.mu.Lock()
		l.rec.at = append(l.rec.at, d.At)
		l.rec.mu.Unlock()
	}
	return d, err
}

// recordingNonces records the flow-control decisions made with a call's nonce (Redis decides
// both in one script), as recordingLimiter records the limiter's.
type recordingNonces struct {
	next camsd.NonceStore
	rec  *admissions
}

func (n recordingNonces) Use(ctx context.Context, call *camsd.Call, accessKeyID, nonce string, expires time.Time) error {
	err := n.next.Use(ctx, call, accessKeyID, nonce, expires)
	if err == nil && call != nil && call.Admission != nil && call.Admission.Decided && call.Admission.Decision.Allowed {
		n.rec.mu.Lock()
		n.rec.at = append(n.rec.at, call.Admission.Decision.At)
		n.rec.mu.Unlock()
	}
	return err
}

// startReplicas starts n camsd replicas on one PostgreSQL schema and one Redis prefix.
func startReplicas(t *testing.T, n int, change func(*ServeConfig)) ([]*Main, *admissions) {
	t.Helper()
	needServices(t)
	database, prefix := freshDatabase(t), randomName("camsd-test:")+":"
	rec := &admissions{}
	var ms []*Main
	for range n {
		cfg := replicaConfig(t, database, prefix)
		if change != nil {
			change(&cfg)
		}
		m := NewMain(cfg, io.Discard, io.Discard)
		m.wrapLimiter = func(l camsd.Limiter) camsd.Limiter { return recordingLimiter{l, rec} }
		m.wrapNonces = func(n camsd.NonceStore) camsd.NonceStore { return recordingNonces{n, rec} }
		if err := m.Open(context.Background()); err != nil {
			t.Fatalf("open replica: %v", err)
		}
		t.Cleanup(func() { _ = m.Close() })
		ms = append(ms, m)
	}
	return ms, rec
}

// TestReplicas_FlowControl: round-robin traffic over three replicas, far above the limit
// for 3 s: no rolling second admits more than the limit, and the total is within 1% of the
// ideal.
func TestReplicas_FlowControl(t *testing.T) {
	const qps = 50
	ms, rec := startReplicas(t, 3, func(c *ServeConfig) { c.QPS = qps })
	query := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}
	var limited, other atomic.Int64
	var next atomic.Int64
	type interval struct{ sent, replied time.Time }
	var imu sync.Mutex
	var admitted []interval // request–reply intervals of the admitted calls, as a client saw them
	deadline := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for range 12 {
		// The darabonba client keeps per-call state on itself: one per goroutine.
		var clients []*openapi.Client
		for _, m := range ms {
			clients = append(clients, newClient(t, m, acmeKey, acmeSecret, ""))
		}
		wg.Go(func() {
			for i := 0; i < 5000 && time.Now().Before(deadline); i++ {
				c := clients[next.Add(1)%int64(len(clients))]
				sent := time.Now()
				_, err := call(c, "GetPhoneNumberVerificationStatus", query)
				switch {
				case err == nil:
					imu.Lock()
					admitted = append(admitted, interval{sent, time.Now()})
					imu.Unlock()
				case asSDKError(t, err).Code == "System.LimitControl":
					limited.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	rec.mu.Lock()
	at := append([]time.Time(nil), rec.at...)
	rec.mu.Unlock()
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	if other.Load() != 0 {
		t.Fatalf("%d calls neither admitted nor limited", other.Load())
	}
	if limited.Load() == 0 {
		t.Fatal("nothing was limited: the load did not exceed the limit")
	}
	if err := limitertest.CheckWindows(at, qps); err != nil {
		t.Errorf("across replicas: %v", err)
	}
	// As a client sees it: no second holds more than qps admitted calls whose whole
	// request–reply interval lies inside it (the seconds that start at a sending).
	for _, w := range admitted {
		in := 0
		for _, a := range admitted {
			if !a.sent.Before(w.sent) && a.replied.Before(w.sent.Add(time.Second)) {
				in++
			}
		}
		if in > qps {
			t.Errorf("%d admitted calls sent and answered within the second from %v; limit %d", in, w.sent, qps)
			break
		}
	}
	// Saturated for 3 s, an exact limiter admits a burst of qps at the first admission and
	// another as each of those leaves the window: exactly 2*qps in the first two seconds.
	inTwo := 0
	for _, a := range at {
		if a.Sub(at[0]) < 2*time.Second {
			inTwo++
		}
	}
	if ideal := 2 * qps; float64(inTwo) < 0.99*float64(ideal) || float64(inTwo) > 1.01*float64(ideal) {
		t.Errorf("%d admitted in the first two seconds; ideal %d (±1%%)", inTwo, ideal)
	}
	t.Logf("%d admitted (%d in the first two seconds), %d limited, across 3 replicas", len(at), inTwo, limited.Load())
}

// rawCode sends a signed V2 GET to base and returns the reply's Code.
func rawCode(t *testing.T, base string, q url.Values) string {
	t.Helper()
	code, err := rawCodeErr(base, q)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// rawCodeErr is rawCode for a goroutine other than the test's.
func rawCodeErr(base string, q url.Values) (string, error) {
	resp, err := http.Get(base + "/?" + q.Encode())
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	return body.Code, nil
}

// TestReplicas_Nonces: a signed request replayed to another replica is refused, and the
// same signed request sent to two replicas at once is admitted exactly once, every time.
func TestReplicas_Nonces(t *testing.T) {
	ms, _ := startReplicas(t, 3, func(c *ServeConfig) { c.QPS = 1000 })
	params := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}
	sign := func() url.Values {
		nonce, err := newNonce()
		if err != nil {
			t.Fatal(err)
		}
		return signedV2("GET", acmeKey, acmeSecret, "GetPhoneNumberVerificationStatus", params, time.Now(), nonce)
	}
	q := sign()
	if got := rawCode(t, ms[0].URL, q); got != "OK" {
		t.Fatalf("first use: %s", got)
	}
	for i, m := range ms {
		if got := rawCode(t, m.URL, q); got != "SignatureNonceUsed" {
			t.Errorf("replayed to replica %d: %s", i, got)
		}
	}
	const trials = 60
	for i := range trials {
		q := sign()
		a, b := ms[i%3], ms[(i+1)%3]
		codes := make([]string, 2)
		var wg sync.WaitGroup
		for j, m := range []*Main{a, b} {
			wg.Go(func() { codes[j] = rawCode(t, m.URL, q) })
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case "OK":
				ok++
			case "SignatureNonceUsed":
			default:
				t.Fatalf("trial %d: %s", i, c)
			}
		}
		if ok != 1 {
			t.Fatalf("trial %d: the same request sent to two replicas at once was admitted %d times (%v)", i, ok, codes)
		}
	}
}

// TestReplicas_Flow: a number initiated on one replica, its code requested on another and
// verified on the third, registered on the first.
func TestReplicas_Flow(t *testing.T) {
	ms, _ := startReplicas(t, 3, nil)
	c := func(i int) *openapi.Client { return newClient(t, ms[i], acmeKey, acmeSecret, "") }
	const mobile = "13900007777"
	number := "86" + mobile
	at := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number}
	okBody(t, c(0), "CreateChatappMigrationInitiate", map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "86", "MobileNumber": mobile})
	okBody(t, c(1), actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "sms"))
	if got, _ := errCode(t, c(2), actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "sms")); got != "VerifyCode.SendTooFrequent" {
		t.Errorf("a second code at once on another replica: %s", got)
	}
	msgs := simMessages(t, ms[2], number) // the outbox is shared too
	if len(msgs) != 1 {
		t.Fatalf("outbox seen from replica 2: %d messages", len(msgs))
	}
	okBody(t, c(2), "ChatappMigrationVerified", with(at, "VerifyCode", msgs[0].Code))
	if got, _ := errCode(t, c(1), "ChatappMigrationVerified", with(at, "VerifyCode", msgs[0].Code)); got != "VerifyCode.NotFound" {
		t.Errorf("the spent code on another replica: %s", got)
	}
	okBody(t, c(0), "ChatappMigrationRegister", at)
}

// TestReplicas_NoDemoTenant: replicas on PostgreSQL start on an empty database without
// making demo tenants of their own.
func TestReplicas_NoDemoTenant(t *testing.T) {
	ms, _ := startReplicas(t, 2, func(c *ServeConfig) { c.Seed = "" })
	for i, m := range ms {
		if empty, err := m.DB.Empty(context.Background()); err != nil || !empty {
			t.Errorf("replica %d: database empty = %v, %v; want no demo tenant", i, empty, err)
		}
	}
}

// TestReplicas_ReplayAfterRedisLosesData: acknowledged calls that sent codes, replayed byte
// for byte after Redis lost camsd's keys (a restart without persistence, FLUSHALL; here the
// test's own prefix is deleted, so that other tests sharing the Redis are not disturbed), are
// all refused with SignatureNonceUsed and send nothing: the database recorded every nonce.
func TestReplicas_ReplayAfterRedisLosesData(t *testing.T) {
	ms, _ := startReplicas(t, 2, func(c *ServeConfig) { c.QPS, c.ResendInterval = 1_000_000, 0 })
	params := verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")
	const calls, clients = 10_000, 16
	sent := make([]url.Values, calls)
	for i := range sent {
		nonce, err := newNonce()
		if err != nil {
			t.Fatal(err)
		}
		sent[i] = signedV2("GET", acmeKey, acmeSecret, actionGetVC, params, time.Now(), nonce)
	}
	// each sends every request once, from clients at a time, request i to replica i+shift;
	// it returns how many answered each code.
	each := func(shift int) map[string]int {
		var (
			mu    sync.Mutex
			codes = map[string]int{}
			wg    sync.WaitGroup
		)
		for w := range clients {
			wg.Go(func() {
				for i := w; i < calls; i += clients {
					got, err := rawCodeErr(ms[(i+shift)%2].URL, sent[i])
					if err != nil {
						got = err.Error()
					}
					mu.Lock()
					codes[got]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return codes
	}
	if codes := each(0); codes["OK"] != calls {
		t.Fatalf("the %d calls answered %v", calls, codes)
	}
	last := func() camsd.VerifyCode {
		vc, err := ms[0].DB.LastCode(t.Context(), acmeSpace, migrating)
		if err != nil {
			t.Fatal(err)
		}
		return *vc
	}
	before := last()

	rdb := redis.NewClient(mustParseRedisURL(t, testRedisURL()))
	defer rdb.Close()
	keys, err := rdb.Keys(t.Context(), ms[0].Config.RedisPrefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("camsd's keys in Redis: %v, %v", keys, err)
	}
	if err := rdb.Del(t.Context(), keys...).Err(); err != nil {
		t.Fatal(err)
	}

	// Every acknowledged request replayed, each to the other replica: all refused, and no
	// code sent (the number's last code is the one it had).
	if codes := each(1); codes["SignatureNonceUsed"] != calls {
		t.Errorf("%d of %d replays refused: %v", codes["SignatureNonceUsed"], calls, codes)
	}
	if after := last(); after.SentAt != before.SentAt || after.Code != before.Code {
		t.Errorf("the replays sent codes: the last code was sent at %v, now at %v", before.SentAt, after.SentAt)
	}
	// Each replica made its writes in groups and answered keys and spaces from its cache.
	for i, m := range ms {
		metrics := scrapeMetrics(t, m)
		for _, name := range []string{"camsd_postgres_groups_total", "camsd_postgres_group_writes_total", "camsd_tenant_cache_hits_total"} {
			if v, ok := metricValue(metrics, name); !ok || v < calls/2 {
				t.Errorf("replica %d: %s = %v (found %v), want at least %d", i, name, v, ok, calls/2)
			}
		}
		if v, ok := metricValue(metrics, "camsd_postgres_group_make_seconds_total"); !ok || v <= 0 {
			t.Errorf("replica %d: camsd_postgres_group_make_seconds_total = %v (found %v), want the time its groups took", i, v, ok)
		}
	}
}

func mustParseRedisURL(t *testing.T, u string) *redis.Options {
	t.Helper()
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// metricValue reads the value of an unlabelled metric from a /metrics scrape.
func metricValue(metrics, name string) (float64, bool) {
	for _, l := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			return f, err == nil
		}
	}
	return 0, false
}

package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// testURL is the PostgreSQL the tests use: $CAMSD_TEST_POSTGRES, or the one on this machine.
func testURL() string {
	if u := os.Getenv("CAMSD_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// reachable reports, once per run, whether the test PostgreSQL answers.
var reachable = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
})

// needPostgres skips the test when PostgreSQL does not answer, except in CI (CI=true), where
// it must run and so fails.
func needPostgres(t testing.TB) {
	t.Helper()
	if err := reachable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL at %s, and CI=true requires it: %v", testURL(), err)
		}
		t.Skipf("no PostgreSQL at %s (set CAMSD_TEST_POSTGRES to point at one): %v", testURL(), err)
	}
}

// admin returns a pool on the test database outside any camsd schema, closed when the test
// ends.
func admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	needPostgres(t)
	p, err := pgxpool.New(context.Background(), testURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// freshSchema returns the name of a schema of the test's own, which does not exist yet, and
// drops it when the test ends (after the DBs opened on it are closed: cleanups run last
// registered first).
func freshSchema(t testing.TB) string {
	t.Helper()
	a := admin(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "camsd_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := a.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// open opens a DB on schema, closed when the test ends.
func open(t testing.TB, schema string, opts postgres.Options) *postgres.DB {
	t.Helper()
	needPostgres(t)
	opts.Schema = schema
	db, err := postgres.Open(context.Background(), testURL(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openFresh opens a DB on a fresh schema: an empty store.
func openFresh(t testing.TB, opts postgres.Options) *postgres.DB {
	t.Helper()
	return open(t, freshSchema(t), opts)
}

// clock is a settable clock for nonce expiry, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func TestDB_Store(t *testing.T) {
	needPostgres(t)
	storetest.Run(t, func(t *testing.T) camsd.Store { return openFresh(t, postgres.Options{}) })
}

func TestDB_Nonces(t *testing.T) {
	needPostgres(t)
	storetest.RunNonces(t, func(t *testing.T, maxLive int) (camsd.NonceStore, func(time.Time)) {
		c := &clock{t: storetest.T0}
		return openFresh(t, postgres.Options{Now: c.Now, MaxNonces: maxLive}), c.Set
	})
}

func TestDB_Admin(t *testing.T) {
	needPostgres(t)
	storetest.RunAdmin(t, func(t *testing.T) storetest.AdminStore { return openFresh(t, postgres.Options{}) })
}

func TestDB_Outbox(t *testing.T) {
	needPostgres(t)
	storetest.RunOutbox(t, func(t *testing.T) camsd.Outbox { return openFresh(t, postgres.Options{}) })
}

func sortTimes(ts []time.Time) {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
}

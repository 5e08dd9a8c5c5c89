package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/storetest"
	"github.com/jackc/pgx/v5"
)

// The tenant cache (cache.go, listen.go): every replica answers Principal and Space from
// memory, and sees any change, made by any replica or by plain SQL, within a second.

// seen is how soon every replica must see a change.
const seen = time.Second

// warm reads with read until db answers it from its cache, which starts once db's listener
// listens.
func warm(t *testing.T, db *postgres.DB, read func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := read(); err != nil && !errors.Is(err, camsd.ErrNotFound) {
			t.Fatal(err)
		}
		hits := db.CacheHits()
		if err := read(); err != nil && !errors.Is(err, camsd.ErrNotFound) {
			t.Fatal(err)
		}
		if db.CacheHits() > hits {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the tenant cache did not start answering within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// within polls check until it returns "" or seen has passed since since; then it fails with
// what check last said.
func within(t *testing.T, since time.Time, what string, check func() string) {
	t.Helper()
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Since(since) > seen {
			t.Fatalf("%s: not seen within %v: %s", what, seen, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// keyIs returns a check that db's Principal of id has the secret and status given, or is not
// found when secret is "".
func keyIs(t *testing.T, db *postgres.DB, id, secret string, status camsd.KeyStatus) func() string {
	return func() string {
		p, err := db.Principal(t.Context(), id)
		switch {
		case secret == "" && errors.Is(err, camsd.ErrNotFound):
			return ""
		case err != nil:
			return fmt.Sprintf("Principal(%s): %v", id, err)
		case secret == "":
			return fmt.Sprintf("Principal(%s) found; want ErrNotFound", id)
		case p.Key.Secret != secret || p.Key.Status != status:
			return fmt.Sprintf("Principal(%s) = secret %q, %s; want %q, %s", id, p.Key.Secret, p.Key.Status, secret, status)
		}
		return ""
	}
}

// spaceIs returns a check that db's Space of id has the WABA id given, or is not found when
// waba is "".
func spaceIs(t *testing.T, db *postgres.DB, id, waba string) func() string {
	return func() string {
		s, err := db.Space(t.Context(), id)
		switch {
		case waba == "" && errors.Is(err, camsd.ErrNotFound):
			return ""
		case err != nil:
			return fmt.Sprintf("Space(%s): %v", id, err)
		case waba == "":
			return fmt.Sprintf("Space(%s) found; want ErrNotFound", id)
		case s.WabaID != waba:
			return fmt.Sprintf("Space(%s).WabaID = %q; want %q", id, s.WabaID, waba)
		}
		return ""
	}
}

func principal(t *testing.T, db *postgres.DB, id string) func() error {
	return func() error { _, err := db.Principal(t.Context(), id); return err }
}

func space(t *testing.T, db *postgres.DB, id string) func() error {
	return func() error { _, err := db.Space(t.Context(), id); return err }
}

func TestCache_otherReplicaSeesSeed(t *testing.T) {
	dbs := replicas(t, 2, postgres.Options{})
	a, b := dbs[0], dbs[1]
	warm(t, b, principal(t, b, storetest.DevKey))
	warm(t, b, principal(t, b, "LTAI5tNewKey000000001")) // not found, and cached so
	warm(t, b, space(t, b, storetest.AcmeSpace))
	warm(t, b, space(t, b, "cs-new"))

	seed := storetest.Fixture()
	acme := &seed.Accounts[0]
	dev := &acme.Users[0]
	dev.AccessKeys[0].Secret, dev.AccessKeys[0].Status = "dev-secret-2", camsd.KeyInactive
	dev.Policies = dev.Policies[:1]
	dev.AccessKeys = append(dev.AccessKeys, camsd.AccessKey{ID: "LTAI5tNewKey000000001", Secret: "new-secret", Status: camsd.KeyActive})
	acme.Spaces[0].WabaID = "200000000000002"
	acme.Spaces = append(acme.Spaces, camsd.SeedSpace{Space: camsd.Space{CustSpaceID: "cs-new", UID: storetest.AcmeUID, Name: "New", WabaID: "300000000000003"}})
	if err := a.ApplySeed(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	since := time.Now()

	within(t, since, "changed key", keyIs(t, b, storetest.DevKey, "dev-secret-2", camsd.KeyInactive))
	within(t, since, "new key", keyIs(t, b, "LTAI5tNewKey000000001", "new-secret", camsd.KeyActive))
	within(t, since, "replaced policies", func() string {
		p, err := b.Principal(t.Context(), storetest.DevKey)
		if err != nil || len(p.User.Policies) != 1 {
			return fmt.Sprintf("Principal = %+v, %v; want one policy", p, err)
		}
		return ""
	})
	within(t, since, "changed space", spaceIs(t, b, storetest.AcmeSpace, "200000000000002"))
	within(t, since, "new space", spaceIs(t, b, "cs-new", "300000000000003"))
}

func TestCache_otherReplicaSeesDeleteKey(t *testing.T) {
	dbs := replicas(t, 2, postgres.Options{})
	a, b := dbs[0], dbs[1]
	warm(t, b, principal(t, b, storetest.AcmeKey))
	if err := a.DeleteKey(t.Context(), storetest.AcmeKey); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), "deleted key", keyIs(t, b, storetest.AcmeKey, "", ""))
}

func TestCache_ownChangeAtOnce(t *testing.T) {
	db := replicas(t, 1, postgres.Options{})[0]
	warm(t, db, principal(t, db, storetest.DevKey))
	warm(t, db, principal(t, db, "LTAI5tNewKey000000001"))
	warm(t, db, space(t, db, storetest.AcmeSpace))

	seed := storetest.Fixture()
	acme := &seed.Accounts[0]
	acme.Users[0].AccessKeys[0].Secret = "dev-secret-2"
	acme.AccessKeys = append(acme.AccessKeys, camsd.AccessKey{ID: "LTAI5tNewKey000000001", Secret: "new-secret", Status: camsd.KeyActive})
	acme.Spaces[0].WabaID = "200000000000002"
	if err := db.ApplySeed(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	// No waiting: the replica that made the change sees it on its next read.
	for _, msg := range []string{
		keyIs(t, db, storetest.DevKey, "dev-secret-2", camsd.KeyActive)(),
		keyIs(t, db, "LTAI5tNewKey000000001", "new-secret", camsd.KeyActive)(),
		spaceIs(t, db, storetest.AcmeSpace, "200000000000002")(),
	} {
		if msg != "" {
			t.Error(msg)
		}
	}

	warm(t, db, principal(t, db, storetest.AcmeKey))
	if err := db.DeleteKey(t.Context(), storetest.AcmeKey); err != nil {
		t.Fatal(err)
	}
	if msg := keyIs(t, db, storetest.AcmeKey, "", "")(); msg != "" {
		t.Error(msg)
	}
}

func TestCache_plainSQL(t *testing.T) {
	// Changes made outside camsd, as psql would (a session whose search_path does not name
	// camsd's schema), reach every replica through the triggers.
	schema := freshSchema(t)
	a, b := open(t, schema, postgres.Options{}), open(t, schema, postgres.Options{})
	if err := a.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	table := func(name string) string { return pgx.Identifier{schema, name}.Sanitize() }
	sql := admin(t)
	for _, db := range []*postgres.DB{a, b} {
		warm(t, db, principal(t, db, storetest.AcmeKey))
		warm(t, db, principal(t, db, storetest.DevKey))
		warm(t, db, space(t, db, storetest.AcmeSpace))
		warm(t, db, space(t, db, "cs-new"))
	}

	steps := []struct {
		what, sql string
		check     func(db *postgres.DB) func() string
	}{
		{"UPDATE access_keys", `UPDATE ` + table("access_keys") + ` SET status = 'Inactive', secret = 'x' WHERE id = '` + storetest.AcmeKey + `'`,
			func(db *postgres.DB) func() string { return keyIs(t, db, storetest.AcmeKey, "x", camsd.KeyInactive) }},
		{"UPDATE accounts", `UPDATE ` + table("accounts") + ` SET subscribed = false WHERE uid = '` + storetest.AcmeUID + `'`,
			func(db *postgres.DB) func() string {
				return func() string {
					if p, err := db.Principal(t.Context(), storetest.DevKey); err != nil || p.Account.Subscribed {
						return fmt.Sprintf("Principal = %+v, %v; want the account unsubscribed", p, err)
					}
					return ""
				}
			}},
		{"DELETE FROM user_policies", `DELETE FROM ` + table("user_policies"),
			func(db *postgres.DB) func() string {
				return func() string {
					if p, err := db.Principal(t.Context(), storetest.DevKey); err != nil || len(p.User.Policies) != 0 {
						return fmt.Sprintf("Principal = %+v, %v; want no policies", p, err)
					}
					return ""
				}
			}},
		{"UPDATE spaces", `UPDATE ` + table("spaces") + ` SET waba_id = '400000000000004' WHERE cust_space_id = '` + storetest.AcmeSpace + `'`,
			func(db *postgres.DB) func() string { return spaceIs(t, db, storetest.AcmeSpace, "400000000000004") }},
		{"INSERT INTO spaces", `INSERT INTO ` + table("spaces") + ` (cust_space_id, uid, name, waba_id) VALUES ('cs-new', '` + storetest.AcmeUID + `', 'New', '500000000000005')`,
			func(db *postgres.DB) func() string { return spaceIs(t, db, "cs-new", "500000000000005") }},
	}
	for _, st := range steps {
		if _, err := sql.Exec(t.Context(), st.sql); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		since := time.Now()
		within(t, since, st.what+", replica a", st.check(a))
		within(t, since, st.what+", replica b", st.check(b))
	}
}

func TestCache_hitAsksNothing(t *testing.T) {
	// While another session holds every tenant table locked, a read that goes to PostgreSQL
	// waits; one that the cache answers does not.
	schema := freshSchema(t)
	db := open(t, schema, postgres.Options{})
	if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	locks := admin(t)
	var last string
	for range 5 { // the cache stops for a moment should its heartbeat lag on a busy machine
		warm(t, db, principal(t, db, storetest.DevKey))
		warm(t, db, space(t, db, storetest.AcmeSpace))
		last = func() string {
			tx, err := locks.Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.WithoutCancel(t.Context()))
			if _, err := tx.Exec(t.Context(), `LOCK TABLE `+pgx.Identifier{schema, "access_keys"}.Sanitize()+`, `+
				pgx.Identifier{schema, "spaces"}.Sanitize()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			hits := db.CacheHits()
			if _, err := db.Principal(ctx, storetest.DevKey); err != nil {
				return fmt.Sprintf("cached Principal under the lock: %v", err)
			}
			if _, err := db.Space(ctx, storetest.AcmeSpace); err != nil {
				return fmt.Sprintf("cached Space under the lock: %v", err)
			}
			if got := db.CacheHits() - hits; got != 2 {
				return fmt.Sprintf("CacheHits grew by %d; want 2", got)
			}
			if _, err := db.Principal(ctx, storetest.OpsKey); err == nil {
				t.Fatal("Principal of a key not cached answered while its table was locked: the test proves nothing")
			}
			return ""
		}()
		if last == "" {
			return
		}
	}
	t.Fatal(last)
}

// listenerPID returns the process id of the backend of the listener on schema's channel, or 0.
func listenerPID(t *testing.T, schema string) int {
	t.Helper()
	var pid int
	err := admin(t).QueryRow(t.Context(), `
		SELECT pid FROM pg_stat_activity
		WHERE application_name = 'camsd-listen' AND query LIKE '%' || $1 || '%'`, schema).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestCache_listenerLost(t *testing.T) {
	schema := freshSchema(t)
	db := open(t, schema, postgres.Options{})
	if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	sql := admin(t)
	warm(t, db, principal(t, db, storetest.AcmeKey))
	pid := listenerPID(t, schema)
	if pid == 0 {
		t.Fatal("no camsd-listen backend in pg_stat_activity")
	}

	// Cut the notification connection, and change the key while it is down: no notification
	// reaches the replica, which must drop its cache and read PostgreSQL until it listens again.
	var done bool
	if err := sql.QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`, pid).Scan(&done); err != nil || !done {
		t.Fatalf("pg_terminate_backend: %v, %v", done, err)
	}
	if _, err := sql.Exec(t.Context(), `UPDATE `+pgx.Identifier{schema, "access_keys"}.Sanitize()+
		` SET secret = 'changed-while-down' WHERE id = $1`, storetest.AcmeKey); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), "change while the listener was down", keyIs(t, db, storetest.AcmeKey, "changed-while-down", camsd.KeyActive))

	// It reconnects and caches again, and the new connection is told of changes.
	warm(t, db, principal(t, db, storetest.AcmeKey))
	if again := listenerPID(t, schema); again == 0 || again == pid {
		t.Fatalf("listener backend after reconnecting = %d; want a new one (the old was %d)", again, pid)
	}
	if _, err := sql.Exec(t.Context(), `UPDATE `+pgx.Identifier{schema, "access_keys"}.Sanitize()+
		` SET secret = 'changed-after' WHERE id = $1`, storetest.AcmeKey); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), "change after reconnecting", keyIs(t, db, storetest.AcmeKey, "changed-after", camsd.KeyActive))
}

func TestCache_badBytes(t *testing.T) {
	db := replicas(t, 1, postgres.Options{})[0]
	for _, id := range []string{"\x00", "a\x00b", "\xff", "cs-\xc3", strings.Repeat("a", 300)} {
		misses := db.CacheMisses()
		if p, err := db.Principal(t.Context(), id); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("Principal(%q) = %v, %v; want ErrNotFound", id, p, err)
		}
		if s, err := db.Space(t.Context(), id); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("Space(%q) = %v, %v; want ErrNotFound", id, s, err)
		}
		if db.CacheMisses() != misses {
			t.Errorf("Principal/Space(%q) read PostgreSQL", id)
		}
	}
	// 256 bytes is still looked up.
	if _, err := db.Principal(t.Context(), strings.Repeat("a", 256)); !errors.Is(err, camsd.ErrNotFound) {
		t.Errorf("Principal(256 bytes) = %v; want ErrNotFound", err)
	}
}

// listeners counts the goroutines running a tenant cache's listener.
func listeners() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "postgres.(*listener).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func TestCache_closeStopsListener(t *testing.T) {
	needPostgres(t)
	before := listeners()
	schema := freshSchema(t)
	db, err := postgres.Open(t.Context(), testURL(), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	warm(t, db, principal(t, db, storetest.AcmeKey))
	if got := listeners(); got != before+1 {
		t.Errorf("listener goroutines while open = %d; want %d", got, before+1)
	}
	db.Close()
	// Close returns once the listener has signalled its end; the goroutine itself is gone a
	// moment later.
	for deadline := time.Now().Add(time.Second); listeners() > before; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("listener goroutines 1 s after Close = %d; want %d", listeners(), before)
		}
	}
	if _, err := db.Principal(t.Context(), storetest.AcmeKey); err == nil {
		t.Error("Principal after Close answered (from the cache)")
	}
	deadline := time.Now().Add(5 * time.Second)
	for listenerPID(t, schema) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the listener's backend is still there 5 s after Close")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func number(t *testing.T, db *postgres.DB, space, n string) func() error {
	return func() error { _, err := db.PhoneNumber(t.Context(), space, n); return err }
}

// numberIs returns a check that db's PhoneNumber of n in space has the status given, or is not
// found when status is "".
func numberIs(t *testing.T, db *postgres.DB, space, n string, status camsd.NumberStatus) func() string {
	return func() string {
		got, err := db.PhoneNumber(t.Context(), space, n)
		switch {
		case status == "" && errors.Is(err, camsd.ErrNotFound):
			return ""
		case err != nil:
			return fmt.Sprintf("PhoneNumber(%s, %s): %v", space, n, err)
		case status == "":
			return fmt.Sprintf("PhoneNumber(%s, %s) found; want ErrNotFound", space, n)
		case got.Status != status:
			return fmt.Sprintf("PhoneNumber(%s, %s) = %s; want %s", space, n, got.Status, status)
		}
		return ""
	}
}

// A number's change through one replica: that replica sees it on its next read, the other
// within a second; a number not found is not cached, so one added a moment later is found at
// once, by either replica.
func TestCache_numbers(t *testing.T) {
	dbs := replicas(t, 2, postgres.Options{})
	a, b := dbs[0], dbs[1]
	for _, db := range dbs {
		warm(t, db, number(t, db, storetest.AcmeSpace, storetest.Number1))
		warm(t, db, number(t, db, storetest.BetaSpace, storetest.Number1))
	}
	hits := b.CacheHits()
	if msg := numberIs(t, b, storetest.AcmeSpace, storetest.Number1, camsd.StatusMigrating)(); msg != "" || b.CacheHits() != hits+1 {
		t.Fatalf("a warm number read: %s (cache hits %d -> %d)", msg, hits, b.CacheHits())
	}
	err := a.ChangeNumber(t.Context(), nil, storetest.AcmeSpace, storetest.Number1, time.Time{}, func(tx *camsd.NumberTxn) error {
		for i := range tx.Records {
			tx.Records[i].Status = camsd.StatusVerified
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	for _, space := range []string{storetest.AcmeSpace, storetest.BetaSpace} {
		if msg := numberIs(t, a, space, storetest.Number1, camsd.StatusVerified)(); msg != "" {
			t.Errorf("the replica that changed it: %s", msg)
		}
		within(t, since, "changed number", numberIs(t, b, space, storetest.Number1, camsd.StatusVerified))
	}

	const fresh = "8613800000099"
	if msg := numberIs(t, b, storetest.AcmeSpace, fresh, "")(); msg != "" {
		t.Fatal(msg)
	}
	err = a.ChangeNumber(t.Context(), nil, storetest.AcmeSpace, fresh, time.Time{}, func(tx *camsd.NumberTxn) error {
		tx.Records = append(tx.Records, camsd.PhoneNumber{CustSpaceID: storetest.AcmeSpace, Number: fresh, ID: "pn-fresh", Status: camsd.StatusMigrating})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs {
		if msg := numberIs(t, db, storetest.AcmeSpace, fresh, camsd.StatusMigrating)(); msg != "" {
			t.Errorf("a number added a moment ago: %s", msg)
		}
	}
}

// A number changed by plain SQL, as psql would: every replica sees it within a second.
func TestCache_numbersPlainSQL(t *testing.T) {
	schema := freshSchema(t)
	a, b := open(t, schema, postgres.Options{}), open(t, schema, postgres.Options{})
	if err := a.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	for _, db := range []*postgres.DB{a, b} {
		warm(t, db, number(t, db, storetest.AcmeSpace, storetest.Number2))
	}
	if _, err := admin(t).Exec(t.Context(), `UPDATE `+pgx.Identifier{schema, "phone_numbers"}.Sanitize()+
		` SET status = 'DISCONNECTED' WHERE number = $1`, storetest.Number2); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	for _, db := range []*postgres.DB{a, b} {
		within(t, since, "number changed by SQL", numberIs(t, db, storetest.AcmeSpace, storetest.Number2, camsd.StatusDisconnected))
	}
}

// PhoneNumberNow reads the current record, past the cache: a change made by plain SQL is
// read at once, whatever the cache holds; unknown numbers and bad bytes are not found.
func TestDB_PhoneNumberNow(t *testing.T) {
	schema := freshSchema(t)
	db := open(t, schema, postgres.Options{})
	if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	warm(t, db, number(t, db, storetest.AcmeSpace, storetest.Number2))
	locks := admin(t)
	tx, err := locks.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(t.Context()))
	if _, err := tx.Exec(t.Context(), `UPDATE `+pgx.Identifier{schema, "phone_numbers"}.Sanitize()+
		` SET status = 'DISCONNECTED' WHERE number = $1`, storetest.Number2); err != nil {
		t.Fatal(err)
	}
	// Uncommitted: the current record is still CONNECTED, and PhoneNumberNow reads it (a
	// row lock does not block a read).
	if n, err := db.PhoneNumberNow(t.Context(), storetest.AcmeSpace, storetest.Number2); err != nil || n.Status != camsd.StatusConnected {
		t.Fatalf("PhoneNumberNow before the commit = %+v, %v; want CONNECTED", n, err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Committed: read at once, without waiting for the notification.
	if n, err := db.PhoneNumberNow(t.Context(), storetest.AcmeSpace, storetest.Number2); err != nil || n.Status != camsd.StatusDisconnected {
		t.Errorf("PhoneNumberNow after the commit = %+v, %v; want DISCONNECTED", n, err)
	}
	for _, tc := range [][2]string{{storetest.AcmeSpace, "8613899999999"}, {"cs-\x00", storetest.Number1}, {storetest.AcmeSpace, "86138\xff"}} {
		if _, err := db.PhoneNumberNow(t.Context(), tc[0], tc[1]); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("PhoneNumberNow(%q, %q) = %v; want ErrNotFound", tc[0], tc[1], err)
		}
	}
}

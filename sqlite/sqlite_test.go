package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestDB_Store(t *testing.T) {
	storetest.Run(t, func(t *testing.T) camsd.Store { return openTemp(t, nil) })
}

func TestDB_NonceStore(t *testing.T) {
	storetest.RunNonces(t, func(t *testing.T, maxLive int) (camsd.NonceStore, func(time.Time)) {
		var now atomic.Int64
		db := openTemp(t, func(db *DB) {
			db.MaxNonces = maxLive
			db.Now = func() time.Time { return time.Unix(0, now.Load()) }
		})
		return db, func(t time.Time) { now.Store(t.UnixNano()) }
	})
}

func TestDB_Outbox(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) camsd.Outbox { return openTemp(t, nil) })
}

// openTemp opens a new database in a temporary directory, after config (if any) has set its
// fields, and closes it when the test ends.
func openTemp(t testing.TB, config func(*DB)) *DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "camsd.db"), config)
}

// openSeeded is openTemp with the storetest fixture's tenants.
func openSeeded(t *testing.T) *DB {
	t.Helper()
	db := openTemp(t, nil)
	if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	return db
}

func openAt(t testing.TB, path string, config func(*DB)) *DB {
	t.Helper()
	db := NewDB(path)
	if config != nil {
		config(db)
	}
	if err := db.Open(); err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestDB_Open(t *testing.T) {
	t.Run("creates the directory and a file only its owner reads", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "camsd-data", "sub", "camsd.db")
		db := openAt(t, path, nil)
		if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s has mode %v; want 0600", filepath.Base(p), perm)
			}
		}
	})
	t.Run("runs each migration once", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "camsd.db")
		for range 3 {
			db := openAt(t, path, nil)
			if got, want := appliedNames(t, db), migrationNames(t); !cmp.Equal(got, want) {
				t.Fatalf("schema_migrations = %v; want %v", got, want)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("refuses a database from a newer camsd", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "camsd.db")
		db := openAt(t, path, nil)
		err := db.w.do(t.Context(), &op{fn: func(tx *wtx) error {
			_, err := tx.exec(`INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 0)`)
			return err
		}})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		if err := NewDB(path).Open(); err == nil {
			t.Fatal("Open succeeded; want an error naming the unknown migration")
		}
	})
	t.Run("sets the durability pragmas", func(t *testing.T) {
		db := openTemp(t, nil)
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1"} {
			var got string
			err := db.w.do(t.Context(), &op{fn: func(tx *wtx) error { return tx.get("PRAGMA "+pragma, nil, &got) }})
			if err != nil || got != want {
				t.Errorf("writer PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
			}
		}
	})
	t.Run("reader cannot write", func(t *testing.T) {
		db := openTemp(t, nil)
		if _, err := db.rdb.ExecContext(t.Context(), `DELETE FROM accounts`); err == nil {
			t.Error("a write on the read pool succeeded")
		}
	})
}

func appliedNames(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.query(t.Context(), `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

func migrationNames(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(paths) == 0 {
		t.Fatalf("migrations: %v, %v", paths, err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p[:len(p)-len(".sql")]))
	}
	return names
}

// TestDB_Reopen checks that a closed and reopened database still holds everything.
func TestDB_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "camsd.db")
	var now atomic.Int64
	now.Store(storetest.T0.UnixNano())
	clock := func(db *DB) { db.Now = func() time.Time { return time.Unix(0, now.Load()) } }
	ctx := t.Context()

	db := openAt(t, path, clock)
	if err := db.ApplySeed(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	code := storetest.Code(storetest.AcmeSpace, storetest.Number1, "123456", storetest.T0)
	if err := db.SaveCode(ctx, nil, code, storetest.T0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCodeStatus(ctx, nil, code.CustSpaceID, code.PhoneNumber, code.SentAt, camsd.DeliverySent); err != nil {
		t.Fatal(err)
	}
	code.Status = camsd.DeliverySent
	if err := db.Use(ctx, nil, storetest.AcmeKey, "long", storetest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Use(ctx, nil, storetest.AcmeKey, "short", storetest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	msg := camsd.Message{PhoneNumber: storetest.Number1, Method: "sms", Locale: "en_US", Code: "123456", Text: "code 123456", CreatedAt: storetest.T0}
	if err := db.AddMessage(ctx, nil, msg, 10); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	now.Store(storetest.T0.Add(2 * time.Minute).UnixNano()) // "short" has expired meanwhile
	db = openAt(t, path, clock)
	if empty, err := db.Empty(ctx); err != nil || empty {
		t.Errorf("Empty() = %v, %v after reopen", empty, err)
	}
	p, err := db.Principal(ctx, storetest.DevKey)
	if err != nil || p.User == nil || len(p.User.Policies) != 2 {
		t.Errorf("Principal(dev) = %+v, %v after reopen", p, err)
	}
	if got, err := db.LastCode(ctx, code.CustSpaceID, code.PhoneNumber); err != nil || !cmp.Equal(&code, got) {
		t.Errorf("LastCode = %+v, %v after reopen; want %+v", got, err, code)
	}
	if err := db.Use(ctx, nil, storetest.AcmeKey, "long", storetest.T0.Add(time.Hour)); !errors.Is(err, camsd.ErrNonceUsed) {
		t.Errorf("Use(live nonce) after reopen = %v; want ErrNonceUsed", err)
	}
	if err := db.Use(ctx, nil, storetest.AcmeKey, "short", storetest.T0.Add(time.Hour)); err != nil {
		t.Errorf("Use(expired nonce) after reopen = %v; want nil", err)
	}
	if got, err := db.Messages(ctx, "", 0); err != nil || !cmp.Equal([]camsd.Message{msg}, got) {
		t.Errorf("Messages = %+v, %v after reopen", got, err)
	}
}

// TestDB_Use_prunes checks that expired nonces leave the table and memory while Use runs.
func TestDB_Use_prunes(t *testing.T) {
	const n = 64
	var now atomic.Int64
	now.Store(storetest.T0.UnixNano())
	db := openTemp(t, func(db *DB) { db.Now = func() time.Time { return time.Unix(0, now.Load()) } })
	use := func(nonce string, expires time.Time) {
		t.Helper()
		if err := db.Use(t.Context(), nil, "AK", nonce, expires); err != nil {
			t.Fatalf("Use(%s): %v", nonce, err)
		}
	}
	for i := range n {
		use("old-"+strconv.Itoa(i), storetest.T0.Add(time.Minute))
	}
	if rows := len(storedNonceEntries(t, db)); rows != n {
		t.Fatalf("before expiry: %d stored; want %d", rows, n)
	}
	now.Store(storetest.T0.Add(2 * time.Minute).UnixNano())
	for i := range n {
		use("new-"+strconv.Itoa(i), storetest.T0.Add(time.Hour))
	}
	if rows := len(storedNonceEntries(t, db)); rows != n || db.nonces.len() != n {
		t.Errorf("after expiry: %d stored, %d in memory; want %d (only the live ones)", rows, db.nonces.len(), n)
	}
}

type nonceEntry struct {
	akid, nonce string
	exp         int64
}

// storedNonceEntries returns every nonce in nonce_log, in the order they were written.
func storedNonceEntries(t *testing.T, db *DB) []nonceEntry {
	t.Helper()
	if err := db.settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	rows, err := db.query(t.Context(), `SELECT entries FROM nonce_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var es []nonceEntry
	for rows.Next() {
		var entries string
		if err := rows.Scan(&entries); err != nil {
			t.Fatal(err)
		}
		err := parseNonceEntries(entries, func(akid, nonce string, exp int64) {
			es = append(es, nonceEntry{akid, nonce, exp})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return es
}

func TestDB_Use_afterClose(t *testing.T) {
	db := openTemp(t, nil)
	db.Close()
	if err := db.Use(context.Background(), nil, "AK", "n", time.Now().Add(time.Minute)); !errors.Is(err, ErrClosed) {
		t.Errorf("Use after Close = %v; want ErrClosed", err)
	}
	if n := db.nonces.len(); n != 0 {
		t.Errorf("%d nonces kept in memory after a failed write; want 0", n)
	}
}

// TestDB_Durability checks what the contract suite cannot: that writes made under a
// Durability are on disk once Wait returns, and what a failed commit undoes.
func TestDB_Durability(t *testing.T) {
	t.Run("after Wait, a reopened database holds every write", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "camsd.db")
		db := openAt(t, path, nil)
		if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		ctx, d := t.Context(), &camsd.Call{}
		expires := time.Now().Add(time.Hour)
		code := storetest.Code(storetest.AcmeSpace, storetest.Number1, "123456", storetest.T0)
		msg := camsd.Message{PhoneNumber: storetest.Number1, Method: "sms", Locale: "en_US", Code: "123456", Text: "code 123456", CreatedAt: storetest.T0}
		for _, err := range []error{
			db.Use(ctx, d, storetest.AcmeKey, "n1", expires),
			db.SaveCode(ctx, d, code, storetest.T0.Add(-time.Minute)),
			db.AddMessage(ctx, d, msg, 10),
			db.SetCodeStatus(ctx, d, code.CustSpaceID, code.PhoneNumber, code.SentAt, camsd.DeliverySent),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = openAt(t, path, nil)
		if err := db.Use(t.Context(), nil, storetest.AcmeKey, "n1", expires); !errors.Is(err, camsd.ErrNonceUsed) {
			t.Errorf("Use(n1) after reopen = %v; want ErrNonceUsed", err)
		}
		code.Status = camsd.DeliverySent
		if got, err := db.LastCode(t.Context(), code.CustSpaceID, code.PhoneNumber); err != nil || !cmp.Equal(&code, got) {
			t.Errorf("LastCode after reopen = %+v, %v; want %+v", got, err, code)
		}
		if got, err := db.Messages(t.Context(), "", 0); err != nil || !cmp.Equal([]camsd.Message{msg}, got) {
			t.Errorf("Messages after reopen = %+v, %v", got, err)
		}
	})
	t.Run("a nonce whose commit fails is not used", func(t *testing.T) {
		db := openTemp(t, nil)
		release := holdErr(db.w)
		ctx, d := t.Context(), &camsd.Call{}
		expires := time.Now().Add(time.Hour)
		if err := db.Use(ctx, d, "AK", "n", expires); err != nil {
			t.Fatalf("Use = %v; want nil, decided in memory", err)
		}
		if err := db.w.enqueue(t.Context(), breaker(true)); err != nil { // same transaction, after the nonce
			t.Fatal(err)
		}
		if err := release(); err == nil {
			t.Fatal("the broken transaction committed")
		}
		if err := d.Wait(); err == nil {
			t.Fatal("Wait = nil; want the failed commit")
		}
		if n := db.nonces.len(); n != 0 {
			t.Errorf("%d nonces in memory after the failed commit; want 0", n)
		}
		if err := db.Use(t.Context(), nil, "AK", "n", expires); err != nil {
			t.Errorf("Use again = %v; want nil: the nonce was never recorded", err)
		}
	})
}

func TestDB_tenantCache(t *testing.T) {
	read := func(t *testing.T, db *DB, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, err := db.Principal(t.Context(), k); err != nil {
				t.Fatalf("Principal(%s): %v", k, err)
			}
		}
		if _, err := db.Space(t.Context(), storetest.AcmeSpace); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PhoneNumber(t.Context(), storetest.AcmeSpace, storetest.Number1); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("reads fill it, a tenant write empties it, a number's change forgets that number, other writes nothing", func(t *testing.T) {
		db := openTemp(t, nil)
		if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		read(t, db, storetest.AcmeKey)
		if _, err := db.Principal(t.Context(), "LTAI5tNoSuchKey000001"); !errors.Is(err, camsd.ErrNotFound) {
			t.Fatalf("Principal(unknown) = %v", err)
		}
		if n := db.tenants.len(); n != 3 {
			t.Errorf("%d entries after 3 reads and a miss; want 3 (not found is not kept)", n)
		}
		code := storetest.Code(storetest.AcmeSpace, storetest.Number1, "1", storetest.T0)
		if err := db.SaveCode(t.Context(), nil, code, storetest.T0); err != nil {
			t.Fatal(err)
		}
		if n := db.tenants.len(); n != 3 {
			t.Errorf("%d entries after SaveCode; want 3", n)
		}
		// A change of the number's records forgets that number only: the key and the space
		// stay, and the next read sees the change.
		err := db.ChangeNumber(t.Context(), nil, storetest.AcmeSpace, storetest.Number1, storetest.T0, func(tx *camsd.NumberTxn) error {
			tx.Record(storetest.AcmeSpace).VerifiedAt = storetest.T0
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := db.tenants.len(); n != 2 {
			t.Errorf("%d entries after a number's change; want 2 (its record forgotten)", n)
		}
		if n, err := db.PhoneNumber(t.Context(), storetest.AcmeSpace, storetest.Number1); err != nil || !n.VerifiedAt.Equal(storetest.T0) {
			t.Errorf("PhoneNumber after the change = %+v, %v; want it verified", n, err)
		}
		if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		if n := db.tenants.len(); n != 0 {
			t.Errorf("%d entries after ApplySeed; want 0", n)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		db := openTemp(t, func(db *DB) { db.tenants.max = 3 })
		if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		read(t, db, storetest.AcmeKey, storetest.DevKey, storetest.BetaKey, storetest.OpsKey)
		if n := db.tenants.len(); n > 3 {
			t.Errorf("%d entries; want at most 3", n)
		}
	})
	t.Run("a read overtaken by an invalidation keeps nothing", func(t *testing.T) {
		c := &tenantCache{max: 10}
		_, err := cached(c, &c.spaces, "cs", func() (string, camsd.Space, error) {
			c.invalidate() // a tenant write committed while the read ran
			return "cs", camsd.Space{CustSpaceID: "cs", Name: "old"}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := c.len(); n != 0 {
			t.Errorf("%d entries; want 0", n)
		}
	})
}

func TestDB_Admin(t *testing.T) {
	storetest.RunAdmin(t, func(t *testing.T) storetest.AdminStore { return openTemp(t, nil) })
}

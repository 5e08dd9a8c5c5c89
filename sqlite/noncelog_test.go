package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

func TestNonceLog_roundTrip(t *testing.T) {
	want := []nonceEntry{
		{"LTAI5tAcmeRoot00000001", "3f1c0e9a-5b7d-4e2a-9c1f-0a2b3c4d5e6f", 1},
		{"AK", "with space and\nnewline", 1 << 62},
		{"AK", "\xff\xfe not UTF-8", -5},
		{"AK", "", 42},
	}
	var l nonceLog
	for _, e := range want {
		l.add(e.akid, e.nonce, e.exp)
	}
	if l.expires != 1<<62 {
		t.Errorf("expires = %d; want the latest expiry, %d", l.expires, int64(1<<62))
	}
	var got []nonceEntry
	if err := parseNonceEntries(string(l.entries), func(akid, nonce string, exp int64) {
		got = append(got, nonceEntry{akid, nonce, exp})
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(nonceEntry{})); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestNonceLog_malformed(t *testing.T) {
	for _, entries := range []string{
		"414B 6E 1",         // no newline
		"414B 6E\n",         // two fields
		"414B 6E 1 2\n",     // four fields
		"4G4B 6E 1\n",       // not hex
		"414B 6E one\n",     // expiry not a number
		"414B 6E 1\n414B\n", // the second line
	} {
		err := parseNonceEntries(entries, func(string, string, int64) {})
		if !errors.Is(err, errNonceEntry) {
			t.Errorf("parseNonceEntries(%q) = %v; want errNonceEntry", entries, err)
		}
	}
}

// TestNonceLog_migratesNonces checks that the nonces a camsd before nonce_log stored, one row
// each, are still refused after the upgrade, whatever bytes they hold.
func TestNonceLog_migratesNonces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "camsd.db")
	now := time.Now()
	live, expired := now.Add(time.Hour), now.Add(-time.Minute)
	func() {
		sdb, err := sql.Open("sqlite", writerDSN(path))
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		ctx := context.Background()
		conn, err := sdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"0001_init", "0002_migration_flow", "0003_space_waba"} {
			if err := applyMigration(ctx, conn, name, "migrations/"+name+".sql", now); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []struct {
			nonce   string
			expires time.Time
		}{{"live", live}, {"odd nonce\n\xff", live}, {"expired", expired}} {
			if _, err := conn.ExecContext(ctx, `INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (?, ?, ?)`,
				"AK", n.nonce, toNanos(n.expires)); err != nil {
				t.Fatal(err)
			}
		}
	}()

	db := openAt(t, path, nil)
	for nonce, want := range map[string]error{"live": camsd.ErrNonceUsed, "odd nonce\n\xff": camsd.ErrNonceUsed, "expired": nil} {
		if err := db.Use(t.Context(), nil, "AK", nonce, live); !errors.Is(err, want) {
			t.Errorf("Use(%q) after the upgrade = %v; want %v", nonce, err, want)
		}
	}
}

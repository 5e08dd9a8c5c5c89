package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camsd/camsd/seal"
	"github.com/camsd/camsd/storetest"
)

// TestDB_Sealed runs the sealing contract; Raw is every byte of every file in the database's
// directory: the database, its write-ahead log and the journal's log.
func TestDB_Sealed(t *testing.T) {
	storetest.RunSealed(t, func(t *testing.T) storetest.SealedDB {
		dir := t.TempDir()
		path := filepath.Join(dir, "camsd.db")
		return storetest.SealedDB{
			Open: func(keys *seal.Keyring) (storetest.SealedStore, error) {
				db := NewDB(path)
				db.Keys = keys
				if err := db.Open(); err != nil {
					return nil, err
				}
				return db, nil
			},
			Raw: func(t *testing.T) []byte { return readFiles(t, dir) },
			Exec: func(t *testing.T, query string) {
				db, err := sql.Open("sqlite", writerDSN(path))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Exec(query); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			},
		}
	})
}

// TestDB_STSSigningKeyUpgrade: a signing key that a camsd before 0008 stored in binary is the
// same key after the upgrade, sealed at the first start with a master key, and no copy of its
// bytes is left in the files.
func TestDB_STSSigningKeyUpgrade(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "camsd.db")
	key := bytes.Repeat([]byte{0xc3, 0x5a, 0x17, 0xe8}, 8)
	func() {
		sdb, err := sql.Open("sqlite", writerDSN(path))
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		ctx := t.Context()
		conn, err := sdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for _, name := range migrationNames(t) {
			if name >= "0008" {
				break
			}
			if err := applyMigration(ctx, conn, name, "migrations/"+name+".sql", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO sts_signing_key (id, key) VALUES (1, ?)`, key); err != nil {
			t.Fatal(err)
		}
	}()

	k1 := storetest.TestKey(t, 1)
	db := NewDB(path)
	db.Keys = seal.NewKeyring(k1)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	got, err := db.STSSigningKey(t.Context(), bytes.Repeat([]byte{9}, 32))
	if err != nil || !bytes.Equal(got, key) {
		t.Errorf("STSSigningKey after the upgrade = %x, %v; want %x", got, err, key)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw := readFiles(t, dir)
	for _, form := range [][]byte{key, []byte(hex.EncodeToString(key))} {
		if bytes.Contains(raw, form) {
			t.Errorf("the signing key is in the files as %q", form)
		}
	}
	if !bytes.Contains(raw, []byte(seal.Prefix(k1.ID()))) {
		t.Error("no value sealed with the key in the files")
	}
}

// readFiles returns every byte of every file in dir.
func readFiles(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	return raw
}

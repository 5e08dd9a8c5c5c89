package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

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
			Raw: func(t *testing.T) []byte {
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
			},
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

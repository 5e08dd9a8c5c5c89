package postgres_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"testing"

	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/seal"
	"github.com/camsd/camsd/storetest"
	"github.com/jackc/pgx/v5"
)

// TestDB_Sealed runs the sealing contract; Raw is every row of every table of the schema, as
// PostgreSQL's text.
func TestDB_Sealed(t *testing.T) {
	needPostgres(t)
	storetest.RunSealed(t, func(t *testing.T) storetest.SealedDB {
		schema := freshSchema(t)
		a := admin(t)
		return storetest.SealedDB{
			Open: func(keys *seal.Keyring) (storetest.SealedStore, error) {
				db, err := postgres.Open(context.Background(), testURL(), postgres.Options{Schema: schema, Keys: keys})
				if err != nil {
					return nil, err
				}
				return db, nil
			},
			Raw: func(t *testing.T) []byte { return rawTables(t, a, schema) },
			Exec: func(t *testing.T, query string) {
				ctx := t.Context()
				conn, err := a.Acquire(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Release()
				if _, err := conn.Exec(ctx, `SET search_path = `+pgx.Identifier{schema}.Sanitize()); err != nil {
					t.Fatal(err)
				}
				defer conn.Exec(context.WithoutCancel(ctx), `RESET search_path`) //nolint:errcheck // the pool's connection goes back as it came
				if _, err := conn.Exec(ctx, query); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			},
		}
	})
}

// rawTables returns every row of every table in schema as PostgreSQL's text of the row.
func rawTables(t *testing.T, a interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, schema string) []byte {
	t.Helper()
	ctx := t.Context()
	rows, err := a.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, table := range tables {
		name := pgx.Identifier{schema, table}.Sanitize()
		rows, err := a.Query(ctx, `SELECT t::text FROM `+name+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			raw = append(raw, s...)
			raw = append(raw, '\n')
		}
	}
	return raw
}

// TestDB_STSSigningKeyUpgrade: a signing key that a camsd before 0009 stored as bytea is the
// same key after the upgrade, sealed at the first start with a master key.
func TestDB_STSSigningKeyUpgrade(t *testing.T) {
	schema := freshSchema(t)
	a := admin(t)
	ctx := t.Context()
	key := bytes.Repeat([]byte{0xc3, 0x5a, 0x17, 0xe8}, 8)

	// The database as 0008 left it: 0009 undone, the key in binary.
	db := open(t, schema, postgres.Options{})
	db.Close()
	table := pgx.Identifier{schema, "sts_signing_key"}.Sanitize()
	for _, q := range []string{
		`ALTER TABLE ` + table + ` ALTER COLUMN key TYPE bytea USING decode(key, 'hex')`,
		`INSERT INTO ` + table + ` (id, key) VALUES (1, '\x` + hex.EncodeToString(key) + `')`,
		`DELETE FROM ` + pgx.Identifier{schema, "schema_migrations"}.Sanitize() + ` WHERE name = '0009_sts_signing_key_text'`,
	} {
		if _, err := a.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	k1 := storetest.TestKey(t, 1)
	db = open(t, schema, postgres.Options{Keys: seal.NewKeyring(k1)})
	got, err := db.STSSigningKey(ctx, bytes.Repeat([]byte{9}, 32))
	if err != nil || !bytes.Equal(got, key) {
		t.Errorf("STSSigningKey after the upgrade = %x, %v; want %x", got, err, key)
	}
	db.Close()
	raw := rawTables(t, a, schema)
	if bytes.Contains(raw, []byte(hex.EncodeToString(key))) {
		t.Error("the signing key is in the tables in clear")
	}
	if !bytes.Contains(raw, []byte(seal.Prefix(k1.ID()))) {
		t.Error("no value sealed with the key in the tables")
	}
}

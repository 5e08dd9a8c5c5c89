package postgres_test

import (
	"context"
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

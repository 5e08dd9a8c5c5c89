package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// migrationsOf returns the names in the schema's schema_migrations, in order.
func migrationsOf(t *testing.T, schema string) []string {
	t.Helper()
	rows, _ := admin(t).Query(t.Context(),
		`SELECT name FROM `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` ORDER BY name`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return names
}

// allMigrations is every file in migrations/, without ".sql", in name order: what a schema
// brought up to date has recorded.
var allMigrations = func() []string {
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) < 3 {
		panic(fmt.Sprintf("migrations/*.sql: %v, %v", files, err))
	}
	var names []string
	for _, f := range files { // Glob sorts
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".sql"))
	}
	return names
}()

func TestOpen_concurrentReplicas(t *testing.T) {
	// Four replicas start at once on a database that has no camsd schema yet: each must
	// come up, and each migration must run once.
	schema := freshSchema(t)
	const replicas = 4
	dbs := make([]*postgres.DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			dbs[i], errs[i] = postgres.Open(context.Background(), testURL(), postgres.Options{Schema: schema})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	if diff := cmp.Diff(allMigrations, migrationsOf(t, schema)); diff != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", diff)
	}
	for i, db := range dbs {
		if empty, err := db.Empty(t.Context()); err != nil || !empty {
			t.Errorf("replica %d: Empty() = %v, %v; want true, nil", i, empty, err)
		}
	}
}

func TestOpen_again(t *testing.T) {
	schema := freshSchema(t)
	db := open(t, schema, postgres.Options{})
	if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	again := open(t, schema, postgres.Options{})
	if empty, err := again.Empty(t.Context()); err != nil || empty {
		t.Errorf("reopened: Empty() = %v, %v; want false, nil", empty, err)
	}
	if diff := cmp.Diff(allMigrations, migrationsOf(t, schema)); diff != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", diff)
	}
}

func TestOpen_newerDatabase(t *testing.T) {
	schema := freshSchema(t)
	open(t, schema, postgres.Options{}).Close()
	if _, err := admin(t).Exec(t.Context(), `INSERT INTO `+
		pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` (name) VALUES ('9999_future')`); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(t.Context(), testURL(), postgres.Options{Schema: schema})
	if err == nil {
		db.Close()
		t.Fatal("Open of a database with an unknown migration succeeded")
	}
	if !strings.Contains(err.Error(), "9999_future") {
		t.Errorf("Open error = %v; want it to name the unknown migration", err)
	}
}

func TestOpen_badURL(t *testing.T) {
	if db, err := postgres.Open(t.Context(), "postgres://%zz", postgres.Options{}); err == nil {
		db.Close()
		t.Fatal("Open(bad URL) succeeded")
	}
}

func TestOpen_schemasAreApart(t *testing.T) {
	a := openFresh(t, postgres.Options{})
	b := openFresh(t, postgres.Options{})
	if err := a.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	if empty, err := b.Empty(t.Context()); err != nil || !empty {
		t.Errorf("the other schema: Empty() = %v, %v; want true, nil", empty, err)
	}
}

package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema's history, applied in file-name order, each once, each in its own
// transaction together with its row in schema_migrations. A file, once released, is never
// edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the session-level advisory lock held while migrating. It is one
// fixed key for every schema of every database of the server: replicas that start at once
// migrate one after the other, and each finds the schema as the one before left it. (Creating
// a schema is not safe to race either: two CREATE SCHEMA IF NOT EXISTS at once can fail.)
const migrationLock int64 = 0x63616d73_644d6967 // "camsdMig"

// migrate brings the schema up to date on one connection of pool, holding migrationLock.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock); uerr != nil {
			// The session still holds the lock: end it rather than return it to the pool.
			conn.Hijack().Close(context.WithoutCancel(ctx))
		}
	}()
	return migrateLocked(ctx, conn.Conn(), schema)
}

func migrateLocked(ctx context.Context, conn *pgx.Conn, schema string) error {
	if schema != "" {
		// The connection's search_path already names the schema; PostgreSQL resolves it
		// again once the schema exists.
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: create schema %q: %w", schema, err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       text        PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("postgres: migrations table: %w", err)
	}
	rows, _ := conn.Query(ctx, `SELECT name FROM schema_migrations`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	applied := make(map[string]bool, len(names))
	for _, name := range names {
		applied[name] = true
	}

	paths, err := fs.Glob(migrations, "migrations/*.sql") // sorted
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(paths))
	for _, path := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		known[name] = true
		if applied[name] {
			continue
		}
		if err := applyMigration(ctx, conn, name, path); err != nil {
			return err
		}
	}
	// A database that a newer camsd has migrated may hold data this one would misread.
	for name := range applied {
		if !known[name] {
			return fmt.Errorf("postgres: database has migration %q that this camsd does not know; upgrade camsd", name)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *pgx.Conn, name, path string) error {
	body, err := migrations.ReadFile(path)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// Without arguments Exec uses the simple protocol, which takes a file of statements.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: migration %s: %w", name, err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// migrations are the schema's history, applied in file-name order, each once, each in its own
// transaction together with its row in schema_migrations. A file, once released, is never
// edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

func migrate(ctx context.Context, conn *sql.Conn, now time.Time) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT    PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	applied, err := appliedMigrations(ctx, conn)
	if err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql") // sorted
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(names))
	for _, path := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		known[name] = true
		if applied[name] {
			continue
		}
		if err := applyMigration(ctx, conn, name, path, now); err != nil {
			return err
		}
	}
	// A database that a newer camsd has migrated may hold data this one would misread.
	for name := range applied {
		if !known[name] {
			return fmt.Errorf("sqlite: database has migration %q that this camsd does not know; upgrade camsd", name)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read migrations: %w", err)
	}
	defer rows.Close()
	applied := make(map[string]bool)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		applied[name] = true
	}
	return applied, rows.Err()
}

func applyMigration(ctx context.Context, conn *sql.Conn, name, path string, now time.Time) error {
	body, err := migrations.ReadFile(path)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
		name, now.UnixNano()); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	return nil
}

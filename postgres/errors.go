package postgres

import (
	"errors"
	"fmt"

	"github.com/camsd/camsd"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// wrap names the operation in an unexpected error, so that a log says where it came from, and
// returns the sentinels of package camsd bare, as their contracts promise. A read that found no
// row is camsd.ErrNotFound.
func wrap(what string, err error) error {
	switch {
	case err == nil, err == camsd.ErrNotFound, err == camsd.ErrConflict,
		err == camsd.ErrNonceUsed, err == camsd.ErrNonceStoreFull:
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return camsd.ErrNotFound
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// isForeignKey reports whether err is a foreign key violation: what PostgreSQL says when a row
// points at a parent that does not exist.
func isForeignKey(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23503" // foreign_key_violation
}

package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/camsd/camsd"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// wrap names the operation in an unexpected error, so that a log says where it came from, and
// returns the sentinels of package camsd bare, as their contracts promise.
func wrap(what string, err error) error {
	switch err {
	case nil, camsd.ErrNotFound, camsd.ErrConflict, camsd.ErrNonceUsed, camsd.ErrNonceStoreFull:
		return err
	}
	if _, ok := err.(*camsd.CodeConflict); ok {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return camsd.ErrNotFound
	}
	return err
}

// isForeignKey reports whether err is a foreign key violation: what SQLite says when a row
// points at a parent that does not exist.
func isForeignKey(err error) bool {
	var e *sqlitedriver.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

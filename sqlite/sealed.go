package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
)

// Secrets at rest (issue 15): AccessKey secrets and spaces' PINs are sealed with DB.Keys on
// their way in (ApplySeed) and opened on their way out (Principal, Space, Tenants), so the
// tenant cache holds them opened, in memory only, and nothing outside this package sees a
// sealed value; the STS signing key likewise, in STSSigningKey. Open seals the plaintext rows of a database that had none (sealAtStart);
// Reseal seals again, in batches, what a previous key sealed.

// resealBatch is how many values one transaction of Reseal seals.
const resealBatch = 500

// open returns the plaintext of a value of field read from record id.
func (db *DB) open(f seal.Field, id, stored string) (string, error) {
	plain, err := db.Keys.Open(f, id, stored)
	if err != nil {
		return "", fmt.Errorf("sqlite: %s of %s: %w", f, id, err)
	}
	return plain, nil
}

// notCurrent is the filter of column c's values that Keys would change: with a sealing key,
// those not sealed with it (plaintext, or sealed with another key); without one, those sealed.
func notCurrent(c seal.Column, keys *seal.Keyring) (string, []any) {
	id := keys.SealingKeyID()
	if id == "" {
		return fmt.Sprintf("substr(%s, 1, %d) = '%s'", c.Column, len(seal.Marker), seal.Marker), nil
	}
	p := seal.Prefix(id)
	return fmt.Sprintf("%s <> '' AND substr(%s, 1, %d) <> ?", c.Column, c.Column, len(p)), []any{p}
}

// stored is one value of a sealed column.
type stored struct{ id, value string }

// notCurrentRows returns up to limit (0: all) of c's values that keys would change, by id.
func notCurrentRows(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, c seal.Column, keys *seal.Keyring, limit int) ([]stored, error) {
	where, args := notCurrent(c, keys)
	query := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s ORDER BY %s", c.IDName, c.Column, c.Table, where, c.IDName)
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.id, &s.value); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// sealAtStart seals, in one transaction on the writer's connection, the plaintext values of a
// database opened with a sealing key, and refuses a database holding a value sealed with a key
// that keys lacks (*seal.MissingKeyError), with or without keys. Values sealed with another
// key of keys are left to Reseal. The plaintext it replaced is zeroed in the file
// (secure_delete) and the write-ahead log is emptied, so that no copy of it stays on disk.
func sealAtStart(ctx context.Context, conn *sql.Conn, keys *seal.Keyring) (err error) {
	// Only on this transaction: zeroing what every delete frees would cost the nonces' pruning.
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return fmt.Errorf("sqlite: seal secrets: %w", err)
	}
	defer func() {
		if _, perr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`); perr != nil && err == nil {
			err = fmt.Errorf("sqlite: seal secrets: %w", perr)
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: seal secrets: %w", err)
	}
	defer tx.Rollback()
	sealed := 0
	for _, c := range seal.Columns() {
		rows, err := notCurrentRows(ctx, tx, c, keys, 0)
		if err != nil {
			return fmt.Errorf("sqlite: seal secrets: %w", err)
		}
		for _, r := range rows {
			if err := keys.Check(r.value); err != nil {
				return fmt.Errorf("sqlite: %s of %s: %w", c.Field, r.id, err)
			}
			if seal.IsSealed(r.value) {
				continue // sealed with a previous key: Reseal's business
			}
			v, err := keys.Seal(c.Field, r.id, r.value)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", c.Table, c.Column, c.IDName), v, r.id); err != nil {
				return fmt.Errorf("sqlite: seal secrets: %w", err)
			}
			sealed++
		}
	}
	if sealed == 0 {
		return nil
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: seal secrets: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("sqlite: seal secrets: checkpoint: %w", err)
	}
	return nil
}

// Reseal seals with Keys's sealing key up to max values not sealed with it, resealBatch in
// each of the writer's transactions. Returns camsd.ErrNoMasterKey without a key.
func (db *DB) Reseal(ctx context.Context, max int) (camsd.Resealed, error) {
	res := camsd.Resealed{KeyID: db.Keys.SealingKeyID()}
	if res.KeyID == "" {
		return res, camsd.ErrNoMasterKey
	}
	var err error
	res.Resealed, res.Remaining, err = seal.ResealColumns(max, resealBatch,
		func(c seal.Column, limit int) (n int, err error) {
			err = db.w.do(ctx, &op{touchesTenants: true, fn: func(tx *wtx) error {
				var err error
				n, err = db.resealBatch(tx, c, limit)
				return err
			}})
			return n, err
		},
		func(c seal.Column) (n int, err error) {
			where, args := notCurrent(c, db.Keys)
			err = db.rdb.QueryRowContext(ctx, "SELECT count(*) FROM "+c.Table+" WHERE "+where, args...).Scan(&n)
			return n, err
		})
	return res, wrap("reseal", err)
}

// resealBatch seals again up to limit of c's values and returns how many it sealed.
func (db *DB) resealBatch(tx *wtx, c seal.Column, limit int) (int, error) {
	if err := tx.sql(); err != nil {
		return 0, err
	}
	rows, err := notCurrentRows(tx.ctx, txQuerier{tx}, c, db.Keys, limit)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		v, err := db.Keys.Reseal(c.Field, r.id, r.value)
		if err != nil {
			return 0, fmt.Errorf("%s of %s: %w", c.Field, r.id, err)
		}
		if _, err := tx.exec(fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", c.Table, c.Column, c.IDName), v, r.id); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// txQuerier runs the writer's queries for notCurrentRows.
type txQuerier struct{ tx *wtx }

func (q txQuerier) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.tx.query(query, args...)
}

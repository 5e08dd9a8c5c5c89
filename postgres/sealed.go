package postgres

import (
	"context"
	"fmt"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Secrets at rest (issue 15): AccessKey secrets and spaces' PINs are sealed with
// Options.Keys on their way in (ApplySeed) and opened on their way out (Principal, Space,
// Tenants), so the tenant cache holds them opened, in memory only, and nothing outside this
// package sees a sealed value; the STS signing key likewise, in STSSigningKey. Open seals the plaintext rows of a database that had none
// (sealAtStart); Reseal seals again, in batches, what a previous key sealed. Both take
// seedLock first, as ApplySeed does: replicas that start at once seal one after the other (the
// later ones find nothing left), and no transaction that writes secrets waits for another's
// row locks in another order.

// resealBatch is how many values one transaction of Reseal seals.
const resealBatch = 500

// open returns the plaintext of a value of field read from record id.
func (db *DB) open(f seal.Field, id, stored string) (string, error) {
	plain, err := db.keys.Open(f, id, stored)
	if err != nil {
		return "", fmt.Errorf("postgres: %s of %s: %w", f, id, err)
	}
	return plain, nil
}

// notCurrent is the filter of column c's values that keys would change: with a sealing key,
// those not sealed with it (plaintext, or sealed with another key); without one, those sealed.
// Its one parameter is $1.
func notCurrent(c seal.Column, keys *seal.Keyring) (string, string) {
	if id := keys.SealingKeyID(); id != "" {
		p := seal.Prefix(id)
		return fmt.Sprintf("%s <> '' AND left(%s, %d) <> $1", c.Column, c.Column, len(p)), p
	}
	return fmt.Sprintf("left(%s, %d) = $1", c.Column, len(seal.Marker)), seal.Marker
}

// stored is one value of a sealed column.
type stored struct{ id, value string }

// notCurrentRows returns up to limit (0: all) of c's values that keys would change, by id.
func notCurrentRows(ctx context.Context, tx pgx.Tx, c seal.Column, keys *seal.Keyring, limit int) ([]stored, error) {
	where, arg := notCurrent(c, keys)
	query := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s ORDER BY %s", c.IDName, c.Column, c.Table, where, c.IDName)
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := tx.Query(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (stored, error) {
		var s stored
		err := r.Scan(&s.id, &s.value)
		return s, err
	})
}

// sealAtStart seals, in one transaction under seedLock, the plaintext values of a database
// opened with a sealing key, and refuses a database holding a value sealed with a key that
// keys lacks (*seal.MissingKeyError), with or without keys. Values sealed with another key of
// keys are left to Reseal. PostgreSQL keeps the replaced plaintext in dead row versions until
// VACUUM, and in its write-ahead log and backups (see README).
func sealAtStart(ctx context.Context, pool *pgxpool.Pool, keys *seal.Keyring) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: seal secrets: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit, nothing
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, seedLock); err != nil {
		return fmt.Errorf("postgres: seal secrets: %w", err)
	}
	for _, c := range seal.Columns() {
		rows, err := notCurrentRows(ctx, tx, c, keys, 0)
		if err != nil {
			return fmt.Errorf("postgres: seal secrets: %w", err)
		}
		b := &pgx.Batch{}
		for _, r := range rows {
			if err := keys.Check(r.value); err != nil {
				return fmt.Errorf("postgres: %s of %s: %w", c.Field, r.id, err)
			}
			if seal.IsSealed(r.value) {
				continue // sealed with a previous key: Reseal's business
			}
			v, err := keys.Seal(c.Field, r.id, r.value)
			if err != nil {
				return err
			}
			b.Queue(fmt.Sprintf("UPDATE %s SET %s = $1 WHERE %s = $2", c.Table, c.Column, c.IDName), v, r.id)
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return fmt.Errorf("postgres: seal secrets: %w", err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: seal secrets: %w", err)
	}
	return nil
}

// Reseal seals with the sealing key up to max values not sealed with it, resealBatch in each
// transaction (under seedLock, so that an ApplySeed of another replica comes before or after).
// Other replicas hear of each batch through the tenant tables' notifications and read the
// values again, which they open with whichever of their keys sealed them. Returns
// camsd.ErrNoMasterKey without a key.
func (db *DB) Reseal(ctx context.Context, max int) (camsd.Resealed, error) {
	res := camsd.Resealed{KeyID: db.keys.SealingKeyID()}
	if res.KeyID == "" {
		return res, camsd.ErrNoMasterKey
	}
	defer db.tenants.invalidateAll()
	var err error
	res.Resealed, res.Remaining, err = seal.ResealColumns(max, resealBatch,
		func(c seal.Column, limit int) (int, error) { return db.resealBatch(ctx, c, limit) },
		func(c seal.Column) (n int, err error) {
			where, arg := notCurrent(c, db.keys)
			err = db.pool.QueryRow(ctx, "SELECT count(*) FROM "+c.Table+" WHERE "+where, arg).Scan(&n)
			return n, err
		})
	return res, wrap("reseal", err)
}

// resealBatch seals again up to limit of c's values, in one transaction, and returns how many
// it sealed.
func (db *DB) resealBatch(ctx context.Context, c seal.Column, limit int) (int, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit, nothing
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, seedLock); err != nil {
		return 0, err
	}
	rows, err := notCurrentRows(ctx, tx, c, db.keys, limit)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	b := &pgx.Batch{}
	for _, r := range rows {
		v, err := db.keys.Reseal(c.Field, r.id, r.value)
		if err != nil {
			return 0, fmt.Errorf("%s of %s: %w", c.Field, r.id, err)
		}
		b.Queue(fmt.Sprintf("UPDATE %s SET %s = $1 WHERE %s = $2", c.Table, c.Column, c.IDName), v, r.id)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, err
	}
	return len(rows), tx.Commit(ctx)
}

package postgres

import (
	"context"
	"fmt"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
	"github.com/jackc/pgx/v5"
)

// Tenants returns the accounts (all, or uid's) with everything they own, read in one
// REPEATABLE READ transaction so that the view is one snapshot.
func (db *DB) Tenants(ctx context.Context, uid string) (*camsd.Seed, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, wrap("tenants", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // it only read
	s, err := readTenants(ctx, tx, uid, db.keys)
	return s, wrap("tenants", err)
}

// readTenants opens the secrets and PINs it reads with keys.
func readTenants(ctx context.Context, tx pgx.Tx, uid string, keys *seal.Keyring) (*camsd.Seed, error) {
	var b camsd.SeedBuilder
	each := func(query string, scan func(r pgx.Rows) error) error {
		rows, err := tx.Query(ctx, query, uid)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	steps := []struct {
		query string
		scan  func(r pgx.Rows) error
	}{
		{`SELECT uid, name, subscribed, qps FROM accounts WHERE $1 = '' OR uid = $1 ORDER BY uid`,
			func(r pgx.Rows) error {
				var a camsd.Account
				err := r.Scan(&a.UID, &a.Name, &a.Subscribed, &a.QPS)
				b.Account(a)
				return err
			}},
		{`SELECT uid, name FROM users WHERE $1 = '' OR uid = $1 ORDER BY uid, name`,
			func(r pgx.Rows) error {
				var owner, name string
				err := r.Scan(&owner, &name)
				b.User(owner, name)
				return err
			}},
		{`SELECT uid, user_name, document FROM user_policies WHERE $1 = '' OR uid = $1 ORDER BY uid, user_name, position`,
			func(r pgx.Rows) error {
				var owner, name, doc string
				err := r.Scan(&owner, &name, &doc)
				b.Policy(owner, name, doc)
				return err
			}},
		{`SELECT id, secret, uid, COALESCE(user_name, ''), status FROM access_keys WHERE $1 = '' OR uid = $1 ORDER BY uid, id`,
			func(r pgx.Rows) error {
				var k camsd.AccessKey
				var status string
				if err := r.Scan(&k.ID, &k.Secret, &k.UID, &k.UserName, &status); err != nil {
					return err
				}
				k.Status = camsd.KeyStatus(status)
				var err error
				if k.Secret, err = keys.Open(seal.AccessKeySecret, k.ID, k.Secret); err != nil {
					return fmt.Errorf("%s of %s: %w", seal.AccessKeySecret, k.ID, err)
				}
				b.Key(k)
				return nil
			}},
		{`SELECT cust_space_id, uid, name, waba_id, pin FROM spaces WHERE $1 = '' OR uid = $1 ORDER BY uid, cust_space_id`,
			func(r pgx.Rows) error {
				var sp camsd.Space
				if err := r.Scan(&sp.CustSpaceID, &sp.UID, &sp.Name, &sp.WabaID, &sp.Pin); err != nil {
					return err
				}
				var err error
				if sp.Pin, err = keys.Open(seal.SpacePIN, sp.CustSpaceID, sp.Pin); err != nil {
					return fmt.Errorf("%s of %s: %w", seal.SpacePIN, sp.CustSpaceID, err)
				}
				b.Space(sp)
				return nil
			}},
		{`SELECT n.cust_space_id, n.number, n.id, n.status, n.verified_name, n.initiated_at, n.verified_at
			FROM phone_numbers n JOIN spaces s ON s.cust_space_id = n.cust_space_id
			WHERE $1 = '' OR s.uid = $1
			ORDER BY n.cust_space_id, n.number`,
			func(r pgx.Rows) error {
				var n camsd.PhoneNumber
				var status string
				var initiated, verified int64
				err := r.Scan(&n.CustSpaceID, &n.Number, &n.ID, &status, &n.VerifiedName, &initiated, &verified)
				n.Status, n.InitiatedAt, n.VerifiedAt = camsd.NumberStatus(status), fromNanos(initiated), fromNanos(verified)
				b.Number(n)
				return err
			}},
		{`SELECT uid, number, verify_code, id FROM prevalidated_numbers
			WHERE $1 = '' OR uid = $1 ORDER BY uid, number`,
			func(r pgx.Rows) error {
				var n camsd.PreValidatedNumber
				err := r.Scan(&n.UID, &n.Number, &n.VerifyCode, &n.ID)
				b.PreValidated(n)
				return err
			}},
		{`SELECT uid, name, max_session_duration, trust_policy FROM roles
			WHERE $1 = '' OR uid = $1 ORDER BY uid, name`,
			func(r pgx.Rows) error {
				var role camsd.Role
				err := r.Scan(&role.UID, &role.Name, &role.MaxSessionDuration, &role.TrustPolicy)
				b.Role(role)
				return err
			}},
		{`SELECT uid, role_name, document FROM role_policies
			WHERE $1 = '' OR uid = $1 ORDER BY uid, role_name, position`,
			func(r pgx.Rows) error {
				var owner, name, doc string
				err := r.Scan(&owner, &name, &doc)
				b.RolePolicy(owner, name, doc)
				return err
			}},
	}
	for _, st := range steps {
		if err := each(st.query, st.scan); err != nil {
			return nil, err
		}
	}
	return b.Seed(), nil
}

// DeleteKey deletes the AccessKey. Returns ErrNotFound. This DB's reads no longer find the key
// once it returns, other replicas' within a second (see cache.go).
func (db *DB) DeleteKey(ctx context.Context, accessKeyID string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM access_keys WHERE id = $1`, accessKeyID)
	db.tenants.invalidateAll() // even after an error: the delete may have committed
	if err != nil {
		return wrap("delete key", err)
	}
	if tag.RowsAffected() == 0 {
		return camsd.ErrNotFound
	}
	return nil
}

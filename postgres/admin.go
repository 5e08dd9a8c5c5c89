package postgres

import (
	"context"

	"github.com/camsd/camsd"
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
	s, err := readTenants(ctx, tx, uid)
	return s, wrap("tenants", err)
}

func readTenants(ctx context.Context, tx pgx.Tx, uid string) (*camsd.Seed, error) {
	var s camsd.Seed
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
	err := each(`SELECT uid, name, subscribed, qps FROM accounts WHERE $1 = '' OR uid = $1 ORDER BY uid`,
		func(r pgx.Rows) error {
			var a camsd.Account
			if err := r.Scan(&a.UID, &a.Name, &a.Subscribed, &a.QPS); err != nil {
				return err
			}
			s.Accounts = append(s.Accounts, camsd.SeedAccount{Account: a})
			return nil
		})
	if err != nil {
		return nil, err
	}
	accounts := map[string]*camsd.SeedAccount{}
	for i := range s.Accounts {
		accounts[s.Accounts[i].UID] = &s.Accounts[i]
	}
	err = each(`SELECT uid, name FROM users WHERE $1 = '' OR uid = $1 ORDER BY uid, name`,
		func(r pgx.Rows) error {
			var owner, name string
			if err := r.Scan(&owner, &name); err != nil {
				return err
			}
			a := accounts[owner]
			a.Users = append(a.Users, camsd.SeedUser{Name: name})
			return nil
		})
	if err != nil {
		return nil, err
	}
	users := map[[2]string]*camsd.SeedUser{}
	for _, a := range accounts {
		for i := range a.Users {
			users[[2]string{a.UID, a.Users[i].Name}] = &a.Users[i]
		}
	}
	err = each(`SELECT uid, user_name, document FROM user_policies WHERE $1 = '' OR uid = $1 ORDER BY uid, user_name, position`,
		func(r pgx.Rows) error {
			var owner, name, doc string
			if err := r.Scan(&owner, &name, &doc); err != nil {
				return err
			}
			u := users[[2]string{owner, name}]
			u.Policies = append(u.Policies, doc)
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT id, secret, uid, user_name, status FROM access_keys WHERE $1 = '' OR uid = $1 ORDER BY uid, id`,
		func(r pgx.Rows) error {
			var k camsd.AccessKey
			var userName *string
			var status string
			if err := r.Scan(&k.ID, &k.Secret, &k.UID, &userName, &status); err != nil {
				return err
			}
			k.Status = camsd.KeyStatus(status)
			if userName != nil {
				k.UserName = *userName
				u := users[[2]string{k.UID, k.UserName}]
				u.AccessKeys = append(u.AccessKeys, k)
			} else {
				a := accounts[k.UID]
				a.AccessKeys = append(a.AccessKeys, k)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT cust_space_id, uid, name, waba_id, pin FROM spaces WHERE $1 = '' OR uid = $1 ORDER BY uid, cust_space_id`,
		func(r pgx.Rows) error {
			var sp camsd.Space
			if err := r.Scan(&sp.CustSpaceID, &sp.UID, &sp.Name, &sp.WabaID, &sp.Pin); err != nil {
				return err
			}
			a := accounts[sp.UID]
			a.Spaces = append(a.Spaces, camsd.SeedSpace{Space: sp})
			return nil
		})
	if err != nil {
		return nil, err
	}
	spaces := map[string]*camsd.SeedSpace{}
	for _, a := range accounts {
		for i := range a.Spaces {
			spaces[a.Spaces[i].CustSpaceID] = &a.Spaces[i]
		}
	}
	err = each(`
		SELECT n.cust_space_id, n.number, n.id, n.status, n.initiated_at, n.verified_at
		FROM phone_numbers n JOIN spaces s ON s.cust_space_id = n.cust_space_id
		WHERE $1 = '' OR s.uid = $1
		ORDER BY n.cust_space_id, n.number`,
		func(r pgx.Rows) error {
			var n camsd.PhoneNumber
			var status string
			var initiated, verified int64
			if err := r.Scan(&n.CustSpaceID, &n.Number, &n.ID, &status, &initiated, &verified); err != nil {
				return err
			}
			n.Status, n.InitiatedAt, n.VerifiedAt = camsd.NumberStatus(status), fromNanos(initiated), fromNanos(verified)
			sp := spaces[n.CustSpaceID]
			sp.PhoneNumbers = append(sp.PhoneNumbers, n)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteKey deletes the AccessKey. Returns ErrNotFound.
func (db *DB) DeleteKey(ctx context.Context, accessKeyID string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM access_keys WHERE id = $1`, accessKeyID)
	if err != nil {
		return wrap("delete key", err)
	}
	if tag.RowsAffected() == 0 {
		return camsd.ErrNotFound
	}
	return nil
}

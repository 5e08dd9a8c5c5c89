package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
)

// roleQuery reads a role, its account and its policies in one statement, so that one snapshot
// answers. There is one row per policy, or one row with a NULL document when there is none.
const roleQuery = `
SELECT a.name, a.subscribed, a.qps, r.max_session_duration, r.trust_policy, p.document
FROM roles r
JOIN accounts a ON a.uid = r.uid
LEFT JOIN role_policies p ON p.uid = r.uid AND p.role_name = r.name
WHERE r.uid = ? AND r.name = ?
ORDER BY p.position`

type roleKey struct{ uid, name string }

type accountRole struct {
	account camsd.Account
	role    *camsd.Role
}

// Role returns the account's RAM role with its policies, and the account. Returns
// ErrNotFound. The caller owns the result; it comes from the tenant cache when it can, so
// that a call signed with STS credentials reads no database.
func (db *DB) Role(ctx context.Context, uid, name string) (*camsd.Account, *camsd.Role, error) {
	k := roleKey{uid, name}
	v, err := cached(&db.tenants, &db.tenants.roles, k, func() (roleKey, accountRole, error) {
		v, err := db.readRole(ctx, strings.Clone(uid), strings.Clone(name))
		return roleKey{v.account.UID, v.role.Name}, v, err
	})
	if err != nil {
		return nil, nil, err
	}
	a := v.account
	return &a, v.role.Clone(), nil
}

func (db *DB) readRole(ctx context.Context, uid, name string) (accountRole, error) {
	v := accountRole{account: camsd.Account{UID: uid}, role: &camsd.Role{UID: uid, Name: name}}
	rows, err := db.query(ctx, roleQuery, uid, name)
	if err != nil {
		return v, fmt.Errorf("sqlite: role: %w", err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var doc sql.NullString
		if err := rows.Scan(&v.account.Name, &v.account.Subscribed, &v.account.QPS,
			&v.role.MaxSessionDuration, &v.role.TrustPolicy, &doc); err != nil {
			return v, fmt.Errorf("sqlite: role: %w", err)
		}
		found = true
		if doc.Valid {
			v.role.Policies = append(v.role.Policies, doc.String)
		}
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("sqlite: role: %w", err)
	}
	if !found {
		return v, camsd.ErrNotFound
	}
	return v, nil
}

// STSSigningKey returns the key that signs STS security tokens: the one stored, or candidate,
// stored now, when there is none. It is stored sealed with Keys, as the hex of its bytes
// (seal.SealBytes), and opened here.
func (db *DB) STSSigningKey(ctx context.Context, candidate []byte) ([]byte, error) {
	v, err := db.Keys.SealBytes(seal.STSSigningKey, seal.SigningKeyRow, candidate)
	if err != nil {
		return nil, wrap("sts signing key", err)
	}
	err = db.w.do(ctx, &op{single: true, fn: func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO sts_signing_key (id, key) VALUES (1, ?) ON CONFLICT DO NOTHING`, v)
		return err
	}})
	if err != nil {
		return nil, wrap("sts signing key", err)
	}
	var stored string
	if err := db.get(ctx, `SELECT key FROM sts_signing_key WHERE id = 1`, nil, &stored); err != nil {
		return nil, wrap("sts signing key", err)
	}
	key, err := db.Keys.OpenBytes(seal.STSSigningKey, seal.SigningKeyRow, stored)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", seal.STSSigningKey, err)
	}
	return key, nil
}

// applyRole creates or updates the role and replaces its policy list.
func applyRole(tx *wtx, uid string, r camsd.Role) error {
	if _, err := tx.exec(`
		INSERT INTO roles (uid, name, max_session_duration, trust_policy) VALUES (?, ?, ?, ?)
		ON CONFLICT (uid, name) DO UPDATE SET
			max_session_duration = excluded.max_session_duration, trust_policy = excluded.trust_policy`,
		uid, r.Name, r.MaxSessionDuration, r.TrustPolicy); err != nil {
		return err
	}
	if _, err := tx.exec(`DELETE FROM role_policies WHERE uid = ? AND role_name = ?`, uid, r.Name); err != nil {
		return err
	}
	for i, doc := range r.Policies {
		if _, err := tx.exec(`
			INSERT INTO role_policies (uid, role_name, position, document) VALUES (?, ?, ?, ?)`,
			uid, r.Name, i, doc); err != nil {
			return err
		}
	}
	return nil
}

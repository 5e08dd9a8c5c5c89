package postgres

import (
	"context"
	"fmt"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
	"github.com/jackc/pgx/v5"
)

// roleQuery reads a role, its account and its policies in one statement, so that one snapshot
// answers. There is one row per policy, or one row with a NULL document when there is none.
const roleQuery = `
SELECT a.name, a.subscribed, a.qps, r.max_session_duration, r.trust_policy, p.document
FROM roles r
JOIN accounts a ON a.uid = r.uid
LEFT JOIN role_policies p ON p.uid = r.uid AND p.role_name = r.name
WHERE r.uid = $1 AND r.name = $2
ORDER BY p.position`

type accountRole struct {
	account camsd.Account
	role    *camsd.Role
}

// Role returns the account's RAM role with its policies, and the account. Returns
// ErrNotFound, also for names PostgreSQL's text could not hold. The caller owns the result;
// it comes from the tenant cache when it can (see tenant.go), so that a call signed with STS
// credentials reads no database.
func (db *DB) Role(ctx context.Context, uid, name string) (*camsd.Account, *camsd.Role, error) {
	if !validText(uid) || !validText(name) {
		return nil, nil, camsd.ErrNotFound
	}
	// A NUL cannot be in either (validText), so it separates them.
	v, err := cached(&db.tenants, &db.tenants.roles, uid+"\x00"+name, func() (accountRole, error) {
		return db.readRole(ctx, uid, name)
	})
	if err != nil {
		return nil, nil, err
	}
	a := v.account
	return &a, v.role.Clone(), nil
}

func (db *DB) readRole(ctx context.Context, uid, name string) (accountRole, error) {
	v := accountRole{account: camsd.Account{UID: uid}, role: &camsd.Role{UID: uid, Name: name}}
	rows, err := db.pool.Query(ctx, roleQuery, uid, name)
	if err != nil {
		return v, wrap("role", err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var doc *string
		if err := rows.Scan(&v.account.Name, &v.account.Subscribed, &v.account.QPS,
			&v.role.MaxSessionDuration, &v.role.TrustPolicy, &doc); err != nil {
			return v, wrap("role", err)
		}
		found = true
		if doc != nil {
			v.role.Policies = append(v.role.Policies, *doc)
		}
	}
	if err := rows.Err(); err != nil {
		return v, wrap("role", err)
	}
	if !found {
		return v, camsd.ErrNotFound
	}
	return v, nil
}

// STSSigningKey returns the key that signs STS security tokens: the one stored, or candidate,
// stored now, when there is none. Replicas that start together all get the one that won. It is
// stored sealed with the keyring, as the hex of its bytes (seal.SealBytes), and opened here.
func (db *DB) STSSigningKey(ctx context.Context, candidate []byte) ([]byte, error) {
	v, err := db.keys.SealBytes(seal.STSSigningKey, seal.SigningKeyRow, candidate)
	if err != nil {
		return nil, wrap("sts signing key", err)
	}
	var stored string
	err = db.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO sts_signing_key (id, key) VALUES (1, $1) ON CONFLICT DO NOTHING RETURNING key
		)
		SELECT key FROM ins UNION ALL SELECT key FROM sts_signing_key WHERE id = 1
		LIMIT 1`, v).Scan(&stored)
	if err != nil {
		return nil, wrap("sts signing key", err)
	}
	key, err := db.keys.OpenBytes(seal.STSSigningKey, seal.SigningKeyRow, stored)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", seal.STSSigningKey, err)
	}
	return key, nil
}

// queueRole creates or updates the role and replaces its policy list.
func queueRole(b *pgx.Batch, uid string, r camsd.Role) {
	b.Queue(`
		INSERT INTO roles (uid, name, max_session_duration, trust_policy) VALUES ($1, $2, $3, $4)
		ON CONFLICT (uid, name) DO UPDATE SET
			max_session_duration = excluded.max_session_duration, trust_policy = excluded.trust_policy`,
		uid, r.Name, r.MaxSessionDuration, r.TrustPolicy)
	b.Queue(`DELETE FROM role_policies WHERE uid = $1 AND role_name = $2`, uid, r.Name)
	for i, doc := range r.Policies {
		b.Queue(`
			INSERT INTO role_policies (uid, role_name, position, document) VALUES ($1, $2, $3, $4)`,
			uid, r.Name, i, doc)
	}
}

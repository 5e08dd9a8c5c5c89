package postgres

import (
	"context"

	"github.com/camsd/camsd"
)

// There is no tenant cache: replicas share the tables, and a cache that another replica's
// ApplySeed cannot invalidate would let a disabled key sign requests. Each read is one
// statement, one round trip.

// principalQuery reads a key, its account, its user and the user's policies in one statement,
// so that one snapshot answers (an ApplySeed between two queries cannot mix old and new).
// There is one row per policy, or one row with a NULL document when there is none.
const principalQuery = `
SELECT k.id, k.secret, k.uid, k.user_name, k.status, a.name, a.subscribed, a.qps, p.document
FROM access_keys k
JOIN accounts a ON a.uid = k.uid
LEFT JOIN user_policies p ON p.uid = k.uid AND p.user_name = k.user_name
WHERE k.id = $1
ORDER BY p.position`

// Principal returns the key, its account and its RAM user with policies. Returns ErrNotFound.
func (db *DB) Principal(ctx context.Context, accessKeyID string) (*camsd.Principal, error) {
	rows, err := db.pool.Query(ctx, principalQuery, accessKeyID)
	if err != nil {
		return nil, wrap("principal", err)
	}
	defer rows.Close()

	var p *camsd.Principal
	for rows.Next() {
		var (
			k                  camsd.AccessKey
			a                  camsd.Account
			userName, document *string
			status             string
		)
		if err := rows.Scan(&k.ID, &k.Secret, &k.UID, &userName, &status,
			&a.Name, &a.Subscribed, &a.QPS, &document); err != nil {
			return nil, wrap("principal", err)
		}
		if p == nil {
			k.Status, a.UID = camsd.KeyStatus(status), k.UID
			p = &camsd.Principal{Key: k, Account: a}
			if userName != nil {
				p.Key.UserName = *userName
				p.User = &camsd.User{UID: k.UID, Name: *userName}
			}
		}
		if p.User != nil && document != nil {
			p.User.Policies = append(p.User.Policies, *document)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("principal", err)
	}
	if p == nil {
		return nil, camsd.ErrNotFound
	}
	return p, nil
}

// Space returns the space. Returns ErrNotFound.
func (db *DB) Space(ctx context.Context, custSpaceID string) (*camsd.Space, error) {
	s := camsd.Space{CustSpaceID: custSpaceID}
	err := db.pool.QueryRow(ctx, `SELECT uid, name, waba_id, pin FROM spaces WHERE cust_space_id = $1`,
		custSpaceID).Scan(&s.UID, &s.Name, &s.WabaID, &s.Pin)
	if err != nil {
		return nil, wrap("space", err)
	}
	return &s, nil
}

// PhoneNumber returns the number in the space. Returns ErrNotFound.
func (db *DB) PhoneNumber(ctx context.Context, custSpaceID, number string) (*camsd.PhoneNumber, error) {
	n := camsd.PhoneNumber{CustSpaceID: custSpaceID, Number: number}
	var initiated, verified int64
	err := db.pool.QueryRow(ctx, `
		SELECT id, status, initiated_at, verified_at FROM phone_numbers
		WHERE cust_space_id = $1 AND number = $2`,
		custSpaceID, number).Scan(&n.ID, &n.Status, &initiated, &verified)
	if err != nil {
		return nil, wrap("phone number", err)
	}
	n.InitiatedAt, n.VerifiedAt = fromNanos(initiated), fromNanos(verified)
	return &n, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
)

// principalQuery reads a key, its account, its user and the user's policies in one statement,
// so that one snapshot answers (an ApplySeed between two queries cannot mix old and new).
// There is one row per policy, or one row with a NULL document when there is none.
const principalQuery = `
SELECT k.id, k.secret, k.uid, k.user_name, k.status, a.name, a.subscribed, a.qps, p.document
FROM access_keys k
JOIN accounts a ON a.uid = k.uid
LEFT JOIN user_policies p ON p.uid = k.uid AND p.user_name = k.user_name
WHERE k.id = ?
ORDER BY p.position`

// Principal returns the key, its account and its RAM user with policies. Returns ErrNotFound.
// The caller owns the result; it comes from the tenant cache when it can.
func (db *DB) Principal(ctx context.Context, accessKeyID string) (*camsd.Principal, error) {
	p, err := cached(&db.tenants, &db.tenants.principals, accessKeyID, func() (string, *camsd.Principal, error) {
		p, err := db.readPrincipal(ctx, accessKeyID)
		if err != nil {
			return "", nil, err
		}
		return p.Key.ID, p, nil // scanned, so a string of its own
	})
	if err != nil {
		return nil, err
	}
	return p.Clone(), nil
}

func (db *DB) readPrincipal(ctx context.Context, accessKeyID string) (*camsd.Principal, error) {
	rows, err := db.query(ctx, principalQuery, accessKeyID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: principal: %w", err)
	}
	defer rows.Close()

	var p *camsd.Principal
	for rows.Next() {
		var (
			userName sql.NullString
			document sql.NullString
			status   string
		)
		var k camsd.AccessKey
		var a camsd.Account
		if err := rows.Scan(&k.ID, &k.Secret, &k.UID, &userName, &status,
			&a.Name, &a.Subscribed, &a.QPS, &document); err != nil {
			return nil, fmt.Errorf("sqlite: principal: %w", err)
		}
		if p == nil {
			k.UserName, k.Status, a.UID = userName.String, camsd.KeyStatus(status), k.UID
			p = &camsd.Principal{Key: k, Account: a}
			if userName.Valid {
				p.User = &camsd.User{UID: k.UID, Name: userName.String}
			}
		}
		if p.User != nil && document.Valid {
			p.User.Policies = append(p.User.Policies, document.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: principal: %w", err)
	}
	if p == nil {
		return nil, camsd.ErrNotFound
	}
	if p.Key.Secret, err = db.open(seal.AccessKeySecret, p.Key.ID, p.Key.Secret); err != nil {
		return nil, err
	}
	return p, nil
}

// Space returns the space. Returns ErrNotFound. It comes from the tenant cache when it can.
func (db *DB) Space(ctx context.Context, custSpaceID string) (*camsd.Space, error) {
	s, err := cached(&db.tenants, &db.tenants.spaces, custSpaceID, func() (string, camsd.Space, error) {
		s := camsd.Space{CustSpaceID: strings.Clone(custSpaceID)}
		err := db.get(ctx, `SELECT uid, name, waba_id, pin FROM spaces WHERE cust_space_id = ?`,
			[]any{custSpaceID}, &s.UID, &s.Name, &s.WabaID, &s.Pin)
		if err == nil {
			s.Pin, err = db.open(seal.SpacePIN, s.CustSpaceID, s.Pin)
		}
		return s.CustSpaceID, s, err
	})
	if err != nil {
		return nil, wrap("space", err)
	}
	return &s, nil
}

// PhoneNumber returns the number in the space. Returns ErrNotFound. It comes from the tenant
// cache when it can.
func (db *DB) PhoneNumber(ctx context.Context, custSpaceID, number string) (*camsd.PhoneNumber, error) {
	k := numberKey{custSpaceID, number}
	n, err := cached(&db.tenants, &db.tenants.numbers, k, func() (numberKey, camsd.PhoneNumber, error) {
		n := camsd.PhoneNumber{CustSpaceID: strings.Clone(custSpaceID), Number: strings.Clone(number)}
		var status string
		var initiated, verified int64
		err := db.get(ctx, `
			SELECT id, status, verified_name, initiated_at, verified_at FROM phone_numbers
			WHERE cust_space_id = ? AND number = ?`,
			[]any{custSpaceID, number}, &n.ID, &status, &n.VerifiedName, &initiated, &verified)
		n.Status, n.InitiatedAt, n.VerifiedAt = camsd.NumberStatus(status), fromNanos(initiated), fromNanos(verified)
		return numberKey{n.CustSpaceID, n.Number}, n, err
	})
	if err != nil {
		return nil, wrap("phone number", err)
	}
	return &n, nil
}

// Empty reports whether the store holds no account at all.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var empty bool
	if err := db.get(ctx, `SELECT NOT EXISTS (SELECT 1 FROM accounts)`, nil, &empty); err != nil {
		return false, fmt.Errorf("sqlite: empty: %w", err)
	}
	return empty, nil
}

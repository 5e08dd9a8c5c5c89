package sqlite

import (
	"context"

	"github.com/camsd/camsd"
)

// Numbers returns the space's numbers, ordered by number; an empty slice when it has none
// (or does not exist). It reads the table, not the tenant cache: the cache keeps numbers one
// by one and could not tell that it holds all of a space's. phone_numbers is never journaled
// (only codes, messages and nonces are), so what the writer committed is what there is.
func (db *DB) Numbers(ctx context.Context, custSpaceID string) ([]camsd.PhoneNumber, error) {
	rows, err := db.query(ctx, `
		SELECT number, id, status, verified_name, initiated_at, verified_at FROM phone_numbers
		WHERE cust_space_id = ? ORDER BY number`, custSpaceID)
	if err != nil {
		return nil, wrap("numbers", err)
	}
	defer rows.Close()
	out := []camsd.PhoneNumber{}
	for rows.Next() {
		n := camsd.PhoneNumber{CustSpaceID: custSpaceID}
		var status string
		var initiated, verified int64
		if err := rows.Scan(&n.Number, &n.ID, &status, &n.VerifiedName, &initiated, &verified); err != nil {
			return nil, wrap("numbers", err)
		}
		n.Status, n.InitiatedAt, n.VerifiedAt = camsd.NumberStatus(status), fromNanos(initiated), fromNanos(verified)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("numbers", err)
	}
	return out, nil
}

// PreValidated returns the account's pre-validated numbers, ordered by number (none: an
// empty slice). Only ApplySeed writes them, and rarely: it reads the table each time.
func (db *DB) PreValidated(ctx context.Context, uid string) ([]camsd.PreValidatedNumber, error) {
	rows, err := db.query(ctx, `
		SELECT number, verify_code, id FROM prevalidated_numbers WHERE uid = ? ORDER BY number`, uid)
	if err != nil {
		return nil, wrap("pre-validated", err)
	}
	defer rows.Close()
	out := []camsd.PreValidatedNumber{}
	for rows.Next() {
		n := camsd.PreValidatedNumber{UID: uid}
		if err := rows.Scan(&n.Number, &n.VerifyCode, &n.ID); err != nil {
			return nil, wrap("pre-validated", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("pre-validated", err)
	}
	return out, nil
}

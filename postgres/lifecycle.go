package postgres

import (
	"context"

	"github.com/camsd/camsd"
	"github.com/jackc/pgx/v5"
)

// Numbers returns the space's numbers, ordered by number; an empty slice when it has none,
// does not exist, or has an id PostgreSQL's text could not hold (see validText). One query,
// not batched as PhoneNumber is: listing a space is not on the hot path of every call.
func (db *DB) Numbers(ctx context.Context, custSpaceID string) ([]camsd.PhoneNumber, error) {
	if !validText(custSpaceID) {
		return []camsd.PhoneNumber{}, nil
	}
	rows, err := db.pool.Query(ctx, `
		SELECT number, id, status, verified_name, initiated_at, verified_at FROM phone_numbers
		WHERE cust_space_id = $1 ORDER BY number`, custSpaceID)
	if err != nil {
		return nil, wrap("numbers", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (camsd.PhoneNumber, error) {
		n := camsd.PhoneNumber{CustSpaceID: custSpaceID}
		var status string
		var initiated, verified int64
		err := row.Scan(&n.Number, &n.ID, &status, &n.VerifiedName, &initiated, &verified)
		n.Status, n.InitiatedAt, n.VerifiedAt = camsd.NumberStatus(status), fromNanos(initiated), fromNanos(verified)
		return n, err
	})
	if err != nil {
		return nil, wrap("numbers", err)
	}
	if out == nil {
		out = []camsd.PhoneNumber{}
	}
	return out, nil
}

// PreValidated returns the account's pre-validated numbers, ordered by number (none: an
// empty slice). Only ApplySeed writes them, and rarely: it reads the table each time.
func (db *DB) PreValidated(ctx context.Context, uid string) ([]camsd.PreValidatedNumber, error) {
	if !validText(uid) {
		return []camsd.PreValidatedNumber{}, nil
	}
	rows, err := db.pool.Query(ctx, `
		SELECT number, verify_code, id FROM prevalidated_numbers WHERE uid = $1 ORDER BY number`, uid)
	if err != nil {
		return nil, wrap("pre-validated", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (camsd.PreValidatedNumber, error) {
		n := camsd.PreValidatedNumber{UID: uid}
		err := row.Scan(&n.Number, &n.VerifyCode, &n.ID)
		return n, err
	})
	if err != nil {
		return nil, wrap("pre-validated", err)
	}
	if out == nil {
		out = []camsd.PreValidatedNumber{}
	}
	return out, nil
}

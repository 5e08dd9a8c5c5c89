package postgres

import (
	"context"
	"time"

	"github.com/camsd/camsd"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lockNumber takes the transaction-level advisory lock of one phone number, in every space:
// SaveCode and ChangeNumber (and ApplySeed when it adds a number) hold it, so that their
// reads and writes of a number never interleave, whichever replica runs them. Under READ
// COMMITTED each statement takes a new snapshot, so the statements after this one see all
// that the lock's previous holder committed. The key space is shared with every advisory lock
// of the server (see migrationLock); a collision of keys only makes one wait for the other.
const lockNumber = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`

// LastCode returns the newest code of the number, by SentAt and then by insertion.
// Returns ErrNotFound.
func (db *DB) LastCode(ctx context.Context, custSpaceID, number string) (*camsd.VerifyCode, error) {
	if !validText(custSpaceID) || !validText(number) {
		return nil, camsd.ErrNotFound
	}
	c := camsd.VerifyCode{CustSpaceID: custSpaceID, PhoneNumber: number}
	var sentAt, expiresAt, usedAt int64
	err := db.pool.QueryRow(ctx, `
		SELECT code, method, locale, sent_at, expires_at, request_id, access_key_id, status,
			attempts, used_at
		FROM verify_codes
		WHERE cust_space_id = $1 AND number = $2
		ORDER BY sent_at DESC, seq DESC
		LIMIT 1`,
		custSpaceID, number).Scan(&c.Code, &c.Method, &c.Locale, &sentAt, &expiresAt,
		&c.RequestID, &c.AccessKeyID, &c.Status, &c.Attempts, &usedAt)
	if err != nil {
		return nil, wrap("last code", err)
	}
	c.SentAt, c.ExpiresAt, c.UsedAt = fromNanos(sentAt), fromNanos(expiresAt), fromNanos(usedAt)
	return &c, nil
}

// saveCode inserts a code unless one of its number that did not fail was sent after $11.
const saveCode = `
INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at, expires_at,
	request_id, access_key_id, status)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
WHERE NOT EXISTS (
	SELECT 1 FROM verify_codes
	WHERE cust_space_id = $1 AND number = $2 AND sent_at > $11 AND status <> 'failed')`

// SaveCode records c unless a code of that number that did not fail was sent after
// notSentAfter; then it returns ErrConflict. Returns ErrNotFound when the number does not
// exist. The lock of the number and the compare-and-set are one batch, one round trip, run by
// PostgreSQL as one implicit transaction: concurrent SaveCodes of a number, from any replica,
// are decided one after the other. It returns once committed.
func (db *DB) SaveCode(ctx context.Context, c camsd.VerifyCode, notSentAfter time.Time) error {
	b := &pgx.Batch{}
	b.Queue(lockNumber, c.PhoneNumber)
	insert := b.Queue(saveCode, c.CustSpaceID, c.PhoneNumber, c.Code, c.Method, c.Locale,
		toNanos(c.SentAt), toNanos(c.ExpiresAt), c.RequestID, c.AccessKeyID, string(c.Status),
		toNanos(notSentAfter))
	var saved bool
	insert.Exec(func(ct pgconn.CommandTag) error {
		saved = ct.RowsAffected() == 1
		return nil
	})
	err := db.pool.SendBatch(ctx, b).Close()
	switch {
	case isForeignKey(err):
		return camsd.ErrNotFound
	case err != nil:
		return wrap("save code", err)
	case !saved:
		return camsd.ErrConflict
	}
	return nil
}

// SetCodeStatus sets the status of the code of the number sent at sentAt (of the last one
// recorded, should two share sentAt). Returns ErrNotFound.
func (db *DB) SetCodeStatus(ctx context.Context, custSpaceID, number string, sentAt time.Time, s camsd.DeliveryStatus) error {
	ct, err := db.pool.Exec(ctx, `
		UPDATE verify_codes SET status = $1
		WHERE seq = (
			SELECT seq FROM verify_codes
			WHERE cust_space_id = $2 AND number = $3 AND sent_at = $4
			ORDER BY seq DESC
			LIMIT 1)`,
		string(s), custSpaceID, number, toNanos(sentAt))
	if err != nil {
		return wrap("set code status", err)
	}
	if ct.RowsAffected() == 0 {
		return camsd.ErrNotFound
	}
	return nil
}

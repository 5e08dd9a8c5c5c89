package sqlite

import (
	"context"
	"time"

	"github.com/camsd/camsd"
)

// LastCode returns the newest code of the number, by SentAt and then by insertion.
// Returns ErrNotFound.
func (db *DB) LastCode(ctx context.Context, custSpaceID, number string) (*camsd.VerifyCode, error) {
	c := camsd.VerifyCode{CustSpaceID: custSpaceID, PhoneNumber: number}
	var sentAt, expiresAt, usedAt int64
	var status string
	err := db.get(ctx, `
		SELECT code, method, locale, sent_at, expires_at, request_id, access_key_id, status,
			attempts, used_at
		FROM verify_codes
		WHERE cust_space_id = ? AND number = ?
		ORDER BY sent_at DESC, seq DESC
		LIMIT 1`,
		[]any{custSpaceID, number},
		&c.Code, &c.Method, &c.Locale, &sentAt, &expiresAt, &c.RequestID, &c.AccessKeyID, &status,
		&c.Attempts, &usedAt)
	if err != nil {
		return nil, wrap("last code", err)
	}
	c.SentAt, c.ExpiresAt, c.Status = fromNanos(sentAt), fromNanos(expiresAt), camsd.DeliveryStatus(status)
	c.UsedAt = fromNanos(usedAt)
	return &c, nil
}

// SaveCode records c unless a code of that number that did not fail was sent after
// notSentAfter; then it returns ErrConflict. The check and the insert run in the writer, one
// op at a time, which is what makes the compare-and-set exact. Returns ErrNotFound when the
// number does not exist. With a camsd.Durability in ctx it returns once the outcome is
// decided, before the commit (see durability.go).
func (db *DB) SaveCode(ctx context.Context, c camsd.VerifyCode, notSentAfter time.Time) error {
	// Single: the insert is the one change, and the last statement.
	return db.decide(ctx, "save code", &op{single: true, fn: func(tx *wtx) error {
		var taken bool
		err := tx.get(`
			SELECT EXISTS (
				SELECT 1 FROM verify_codes
				WHERE cust_space_id = ? AND number = ? AND sent_at > ? AND status <> ?)`,
			[]any{c.CustSpaceID, c.PhoneNumber, toNanos(notSentAfter), string(camsd.DeliveryFailed)},
			&taken)
		if err != nil {
			return err
		}
		if taken {
			return camsd.ErrConflict
		}
		_, err = tx.exec(`
			INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at,
				expires_at, request_id, access_key_id, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.CustSpaceID, c.PhoneNumber, c.Code, c.Method, c.Locale, toNanos(c.SentAt),
			toNanos(c.ExpiresAt), c.RequestID, c.AccessKeyID, string(c.Status))
		if isForeignKey(err) {
			return camsd.ErrNotFound
		}
		return err
	}})
}

// SetCodeStatus sets the status of the code of the number sent at sentAt (of the last one
// recorded, should two share sentAt). Returns ErrNotFound: with a camsd.Durability in ctx,
// from its Wait (see durability.go).
func (db *DB) SetCodeStatus(ctx context.Context, custSpaceID, number string, sentAt time.Time, s camsd.DeliveryStatus) error {
	// Single: one UPDATE; when it matched nothing there is nothing to undo.
	return db.write(ctx, "set code status", &op{single: true, fn: func(tx *wtx) error {
		res, err := tx.exec(`
			UPDATE verify_codes SET status = ?
			WHERE seq = (
				SELECT seq FROM verify_codes
				WHERE cust_space_id = ? AND number = ? AND sent_at = ?
				ORDER BY seq DESC
				LIMIT 1)`,
			string(s), custSpaceID, number, toNanos(sentAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return camsd.ErrNotFound
		}
		return nil
	}}, nil)
}

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
	var sentAt, expiresAt int64
	var status string
	err := db.get(ctx, `
		SELECT code, method, locale, sent_at, expires_at, request_id, access_key_id, status
		FROM verify_codes
		WHERE cust_space_id = ? AND number = ?
		ORDER BY sent_at DESC, seq DESC
		LIMIT 1`,
		[]any{custSpaceID, number},
		&c.Code, &c.Method, &c.Locale, &sentAt, &expiresAt, &c.RequestID, &c.AccessKeyID, &status)
	if err != nil {
		return nil, wrap("last code", err)
	}
	c.SentAt, c.ExpiresAt, c.Status = fromNanos(sentAt), fromNanos(expiresAt), camsd.DeliveryStatus(status)
	return &c, nil
}

// SaveCode records c unless a code of that number that did not fail was sent after
// notSentAfter; then it returns ErrConflict. Returns ErrNotFound when the number does not
// exist.
//
// The compare-and-set is decided in memory (codeIndex), where memory changes and the insert
// is queued under one mutex: exactly one of concurrent callers wins. With a camsd.Durability
// in ctx it returns as soon as it is decided, and the commit is waited for by the
// Durability (see durability.go); without one, once the insert has committed.
func (db *DB) SaveCode(ctx context.Context, c camsd.VerifyCode, notSentAfter time.Time) error {
	// Numbers are only ever created, by ApplySeed, which has committed when it returns: a
	// number read here is there when the insert runs, and the insert needs no other check.
	if _, err := db.PhoneNumber(ctx, c.CustSpaceID, c.PhoneNumber); err != nil {
		return err
	}
	o, err := db.queueCode(ctx, c, notSentAfter)
	if err != nil {
		return wrap("save code", err)
	}
	return db.queued(ctx, "save code", o, nil)
}

// queueCode decides SaveCode's compare-and-set and, if c wins, records it in memory and queues
// its insert.
func (db *DB) queueCode(ctx context.Context, c camsd.VerifyCode, notSentAfter time.Time) (*op, error) {
	x := &db.codes
	e, err := x.fresh(ctx, numberKey{c.CustSpaceID, c.PhoneNumber}, db.loadCodes)
	if err != nil {
		return nil, err
	}
	defer x.mu.Unlock()
	if e.newestLive() > toNanos(notSentAfter) {
		return nil, camsd.ErrConflict
	}
	o := x.op(e, true, func(tx *wtx) error {
		_, err := tx.exec(`
			INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at,
				expires_at, request_id, access_key_id, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.CustSpaceID, c.PhoneNumber, c.Code, c.Method, c.Locale, toNanos(c.SentAt),
			toNanos(c.ExpiresAt), c.RequestID, c.AccessKeyID, string(c.Status))
		if isForeignKey(err) {
			return camsd.ErrNotFound
		}
		return err
	})
	if err := db.w.enqueue(ctx, o); err != nil {
		return nil, err
	}
	e.pending++
	e.insert(codeMark{sentAt: toNanos(c.SentAt), failed: c.Status == camsd.DeliveryFailed})
	return o, nil
}

// SetCodeStatus sets the status of the code of the number sent at sentAt (of the last one
// recorded, should two share sentAt). Returns ErrNotFound, from the call when memory knows the
// number's codes, else (with a camsd.Durability in ctx) from its Wait.
//
// Memory is changed when the update is queued, in the order of the writes queued before and
// after it, so that a SaveCode that follows sees the new status at once.
func (db *DB) SetCodeStatus(ctx context.Context, custSpaceID, number string, sentAt time.Time, s camsd.DeliveryStatus) error {
	o, err := db.queueStatus(ctx, numberKey{custSpaceID, number}, toNanos(sentAt), s)
	if err != nil {
		return wrap("set code status", err)
	}
	return db.queued(ctx, "set code status", o, nil)
}

func (db *DB) queueStatus(ctx context.Context, k numberKey, sentAt int64, s camsd.DeliveryStatus) (*op, error) {
	x := &db.codes
	e, err := x.entry(ctx, k)
	if err != nil {
		return nil, err
	}
	defer x.mu.Unlock()
	i := -1
	if !e.stale {
		var absent bool
		if i, absent = e.find(sentAt); absent {
			return nil, camsd.ErrNotFound
		}
	}
	o := x.op(e, false, func(tx *wtx) error {
		res, err := tx.exec(`
			UPDATE verify_codes SET status = ?
			WHERE seq = (
				SELECT seq FROM verify_codes
				WHERE cust_space_id = ? AND number = ? AND sent_at = ?
				ORDER BY seq DESC
				LIMIT 1)`,
			string(s), k.space, k.number, sentAt)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return camsd.ErrNotFound
		}
		return nil
	})
	if err := db.w.enqueue(ctx, o); err != nil {
		return nil, err
	}
	e.pending++
	switch {
	case e.stale:
		// Memory does not know the number's codes: the table decides, and the next
		// SaveCode reads them again once this has committed.
	case i >= 0:
		e.codes[i].failed = s == camsd.DeliveryFailed
	default:
		// A code older than memory holds, whose change may move the newest live SentAt.
		e.stale = true
	}
	return o, nil
}

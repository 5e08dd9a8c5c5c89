package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/camsd/camsd"
)

// lockNumber takes the transaction-level advisory lock of one phone number, in every space:
// SaveCode and ChangeNumber (and ApplySeed when it adds a number) hold it, so that their
// reads and writes of a number never interleave, whichever replica runs them. Under READ
// COMMITTED each statement takes a new snapshot, so the statements after this one see all
// that the lock's previous holder committed. The key space is shared with every advisory lock
// of the server (see migrationLock); a collision of keys only makes one wait for the other.
const lockNumber = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`

// lockNumbers takes the locks of several numbers ($1, a text[]) in one statement, in the one
// order every transaction that takes several takes them (write_group's): by key, each once.
// The aggregate calls the lock function on the sorted rows in their order.
const lockNumbers = `
	SELECT count(pg_advisory_xact_lock(h))
	FROM (SELECT DISTINCT hashtextextended(x, 0) AS h FROM unnest($1::text[]) AS x ORDER BY h) AS s`

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

// SaveCode records c unless a code of that number that did not fail was sent after
// notSentAfter; then it returns a *camsd.CodeConflict (errors.Is ErrConflict) naming when the
// newest such code was sent. Returns ErrNotFound when the number does not exist. It is a
// grouped write (group.go): the compare-and-set runs in its group's statement under the
// number's advisory lock (lockNumber's key), so concurrent SaveCodes of a number, from any
// replica, are decided one after the other. The nonce call still has to record (Call.Nonce)
// is recorded first, in the same transaction: if it was recorded already, nothing is saved
// and SaveCode returns ErrNonceUsed. It returns once committed.
func (db *DB) SaveCode(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time) error {
	return db.saveCode(ctx, call, &write{kind: kindCode, code: c, notSentAfter: toNanos(notSentAfter)})
}

// SaveCodeMessage is SaveCode for a code that carries its message m: m is inserted in the
// code's group, in its statement, only if the code is, and the outbox then keeps its newest
// keep, as with AddMessage. It returns once committed.
func (db *DB) SaveCodeMessage(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time, m camsd.Message, keep int) error {
	return db.saveCode(ctx, call, &write{kind: kindCode, code: c, notSentAfter: toNanos(notSentAfter), msg: m, keep: keep, withMsg: true})
}

func (db *DB) saveCode(ctx context.Context, call *camsd.Call, w *write) error {
	// A write the call left to its Wait comes first: this one runs on another writer.
	if err := call.Wait(); err != nil {
		return err
	}
	if n := call.TakeNonce(); n != nil {
		w.accessKeyID, w.nonce, w.expires, w.now = n.AccessKeyID, n.Nonce, toNanos(n.Expires), toNanos(n.Now)
	}
	if err := db.groups.do(ctx, call, w); err != nil {
		return wrap("save code", err)
	}
	switch w.verdict {
	case "ok":
		return nil
	case "notfound":
		return camsd.ErrNotFound
	case "conflict":
		return &camsd.CodeConflict{Newest: fromNanos(w.newest)}
	case "used":
		return camsd.ErrNonceUsed
	case "full":
		return camsd.ErrNonceStoreFull
	}
	return fmt.Errorf("postgres: save code: unexpected verdict %q", w.verdict)
}

// SetCodeStatus sets the status of the code of the number sent at sentAt (of the last one
// recorded, should two share sentAt), as a grouped write (group.go): with a call, it returns
// once queued and the call's Wait reports its commit, and ErrNotFound. Returns ErrNotFound.
func (db *DB) SetCodeStatus(ctx context.Context, call *camsd.Call, custSpaceID, number string, sentAt time.Time, s camsd.DeliveryStatus) error {
	w := &write{kind: kindStatus, code: camsd.VerifyCode{CustSpaceID: custSpaceID, PhoneNumber: number, SentAt: sentAt, Status: s}}
	return db.groups.later(ctx, call, w, func(err error) error {
		if err == nil && w.verdict == "notfound" {
			return camsd.ErrNotFound
		}
		return wrap("set code status", err)
	})
}

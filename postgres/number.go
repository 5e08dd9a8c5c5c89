package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/camsd/camsd"
	"github.com/jackc/pgx/v5"
)

// ChangeNumber reads the number's state, runs change on it and writes back what change
// changed, in one transaction that holds the number's advisory lock (lockNumber) from before
// the reads to the commit: changes of one number, from any replica, are serial, and each sees
// the last. Three round trips: BEGIN, the lock and the reads in one batch; the writes; COMMIT.
// change runs once. If it returns an error, the transaction is rolled back and the error returned as is.
// The nonce call still has to record (Call.Nonce) is recorded in the same transaction, after
// the number's lock (the global lock order: numbers, nonces, AccessKeys); if it was recorded
// already, change does not run and ChangeNumber returns ErrNonceUsed.
// A space or number that PostgreSQL's text cannot hold, or longer than any it holds
// (validText), is ErrNotFound at once, change not run: such a space does not exist and such
// a number is in no space.
func (db *DB) ChangeNumber(ctx context.Context, call *camsd.Call, custSpaceID, number string, since time.Time, change func(*camsd.NumberTxn) error) error {
	if !validText(custSpaceID) || !validText(number) {
		return camsd.ErrNotFound
	}
	t := &numberTxn{NumberTxn: camsd.NumberTxn{CustSpaceID: custSpaceID, Number: number}}
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(lockNumber, number)
	nonce := "ok"
	if n := call.TakeNonce(); n != nil {
		// The nonce's lock, as write_group takes it (after numbers, before AccessKeys); then a
		// nonce a code recorded (in its row: migration 0016) is used too.
		b.Queue(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, n.AccessKeyID, n.Nonce)
		b.Queue(`SELECT CASE WHEN EXISTS (SELECT 1 FROM verify_codes WHERE nonce_key = $1 AND nonce = $2)
			THEN 'used' ELSE nonce_use($1, $2, $3, $4, $5) END`, n.AccessKeyID, n.Nonce, toNanos(n.Expires),
			toNanos(n.Now), db.maxNonces).QueryRow(func(row pgx.Row) error { return row.Scan(&nonce) })
	}
	t.queueLoad(b, since)
	br := db.pool.SendBatch(ctx, b)
	tx := br.Tx()
	// After Commit this does nothing; otherwise it ends the transaction and returns the
	// connection to the pool, even should change panic. Its error adds nothing: a failed
	// rollback closes the connection.
	defer tx.Rollback(ctx)
	if err := br.Close(); err != nil {
		return wrap("change number", err)
	}
	switch nonce {
	case "used":
		return camsd.ErrNonceUsed
	case "full":
		return camsd.ErrNonceStoreFull
	}

	before := t.Clone()
	if err := change(&t.NumberTxn); err != nil {
		return err
	}
	w, err := t.queueSave(before)
	if err != nil {
		return wrap("change number", err)
	}
	if w.Len() > 0 {
		err = tx.SendBatch(ctx, w).Close()
		if isForeignKey(err) {
			return camsd.ErrNotFound // a record for a space that does not exist
		} else if err != nil {
			return wrap("change number", err)
		}
	}
	err = tx.Commit(ctx)
	// Even after an error: the commit may have happened. Other replicas hear of it through
	// the number's notification.
	db.tenants.forgetNumber(number)
	return wrap("change number", err)
}

// numberTxn is a camsd.NumberTxn with what the store needs to write it back.
type numberTxn struct {
	camsd.NumberTxn
	codeSeq int64 // verify_codes.seq of LastCode
}

// queueLoad queues the reads of the number's state; t holds it once the batch is closed.
func (t *numberTxn) queueLoad(b *pgx.Batch, since time.Time) {
	b.Queue(`
		SELECT cust_space_id, id, status, verified_name, initiated_at, verified_at FROM phone_numbers
		WHERE number = $1 ORDER BY cust_space_id`, t.Number).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			r := camsd.PhoneNumber{Number: t.Number}
			var initiated, verified int64
			if err := rows.Scan(&r.CustSpaceID, &r.ID, &r.Status, &r.VerifiedName, &initiated, &verified); err != nil {
				return err
			}
			r.InitiatedAt, r.VerifiedAt = fromNanos(initiated), fromNanos(verified)
			t.Records = append(t.Records, r)
		}
		return rows.Err()
	})

	b.Queue(`
		SELECT seq, code, method, locale, sent_at, expires_at, request_id, access_key_id, status,
			attempts, used_at
		FROM verify_codes
		WHERE cust_space_id = $1 AND number = $2 AND status <> 'failed'
		ORDER BY sent_at DESC, seq DESC
		LIMIT 1`, t.CustSpaceID, t.Number).QueryRow(func(row pgx.Row) error {
		c := camsd.VerifyCode{CustSpaceID: t.CustSpaceID, PhoneNumber: t.Number}
		var sentAt, expiresAt, usedAt int64
		err := row.Scan(&t.codeSeq, &c.Code, &c.Method, &c.Locale, &sentAt, &expiresAt,
			&c.RequestID, &c.AccessKeyID, &c.Status, &c.Attempts, &usedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		c.SentAt, c.ExpiresAt, c.UsedAt = fromNanos(sentAt), fromNanos(expiresAt), fromNanos(usedAt)
		t.LastCode = &c
		return nil
	})

	b.Queue(`SELECT at FROM registrations WHERE number = $1 AND at >= $2 ORDER BY at`,
		t.Number, toNanos(since)).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var at int64
			if err := rows.Scan(&at); err != nil {
				return err
			}
			t.Registrations = append(t.Registrations, fromNanos(at))
		}
		return rows.Err()
	})
}

// queueSave returns a batch of the writes of what the rule changed since before. A record
// appended without an id gets a new one (camsd.NewNumberID), set in t.Records at once. No
// index makes ids unique (a seed or the platform may give two records one id) and nothing
// looks a record up by id, so a random one is not checked against the others.
func (t *numberTxn) queueSave(before camsd.NumberTxn) (*pgx.Batch, error) {
	b := &pgx.Batch{}
	added, changed, codeChanged := t.Changes(before)
	for _, r := range added {
		if r.ID == "" {
			id, err := camsd.NewNumberID()
			if err != nil {
				return nil, err
			}
			r.ID = id
		}
		b.Queue(`
			INSERT INTO phone_numbers (cust_space_id, number, id, status, verified_name, initiated_at, verified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			r.CustSpaceID, r.Number, r.ID, string(r.Status), r.VerifiedName, toNanos(r.InitiatedAt),
			toNanos(r.VerifiedAt))
	}
	for _, r := range changed {
		b.Queue(`
			UPDATE phone_numbers SET id = $1, status = $2, verified_name = $3, initiated_at = $4, verified_at = $5
			WHERE cust_space_id = $6 AND number = $7`,
			r.ID, string(r.Status), r.VerifiedName, toNanos(r.InitiatedAt), toNanos(r.VerifiedAt),
			r.CustSpaceID, t.Number)
	}
	if c := t.LastCode; codeChanged {
		b.Queue(`UPDATE verify_codes SET attempts = $1, used_at = $2 WHERE seq = $3`,
			c.Attempts, toNanos(c.UsedAt), t.codeSeq)
	}
	if !t.Register.IsZero() {
		b.Queue(`INSERT INTO registrations (number, cust_space_id, at) VALUES ($1, $2, $3)`,
			t.Number, t.CustSpaceID, toNanos(t.Register))
	}
	for _, a := range t.Audit {
		b.Queue(`
			INSERT INTO audit (at, action, cust_space_id, number, uid, user_name, access_key_id,
				request_id, outcome, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			toNanos(a.At), a.Action, a.CustSpaceID, a.PhoneNumber, a.UID, a.UserName,
			a.AccessKeyID, a.RequestID, a.Outcome, a.Detail)
	}
	return b, nil
}

// auditQuery reads the audit table and, as records of GetMigrationVerifyCode, the codes
// table: a code's record is its row (who asked, with which key, when, in which call), so it
// is not written twice. The caller's account is the space's owner, which the call checked;
// the RAM user is the key's. The wording is the SQLite store's. LIMIT NULL is no limit.
const auditQuery = `
SELECT at, action, cust_space_id, number, uid, user_name, access_key_id, request_id, outcome, detail
FROM (
	SELECT at, action, cust_space_id, number, uid, user_name, access_key_id, request_id,
		outcome, detail, 0 AS source, seq
	FROM audit
	WHERE ($1 = '' OR number = $1) AND ($2 = '' OR uid = $2)
	UNION ALL
	SELECT c.sent_at, 'GetMigrationVerifyCode', c.cust_space_id, c.number, s.uid,
		COALESCE(k.user_name, ''), c.access_key_id, c.request_id,
		CASE c.status WHEN 'sent' THEN 'OK' WHEN 'failed' THEN 'DeliveryFailed' ELSE 'DeliveryPending' END,
		c.method || ' code in ' || c.locale || ', delivery ' || c.status, 1, c.seq
	FROM verify_codes c
	JOIN spaces s ON s.cust_space_id = c.cust_space_id
	LEFT JOIN access_keys k ON k.id = c.access_key_id
	WHERE ($1 = '' OR c.number = $1) AND ($2 = '' OR s.uid = $2)
) trail
ORDER BY at DESC, seq DESC, source DESC
LIMIT $3`

// Audit returns audit records newest first.
func (db *DB) Audit(ctx context.Context, q camsd.AuditQuery) ([]camsd.AuditRecord, error) {
	var limit *int
	if q.Limit > 0 {
		limit = &q.Limit
	}
	rows, err := db.pool.Query(ctx, auditQuery, q.PhoneNumber, q.UID, limit)
	if err != nil {
		return nil, wrap("audit", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (camsd.AuditRecord, error) {
		var a camsd.AuditRecord
		var at int64
		err := row.Scan(&at, &a.Action, &a.CustSpaceID, &a.PhoneNumber, &a.UID, &a.UserName,
			&a.AccessKeyID, &a.RequestID, &a.Outcome, &a.Detail)
		a.At = fromNanos(at)
		return a, err
	})
	if err != nil || len(out) == 0 {
		return nil, wrap("audit", err) // none is nil, as from the SQLite store
	}
	return out, nil
}

package sqlite

import (
	"context"
	"time"

	"github.com/camsd/camsd"
)

// ChangeNumber reads the number's state, runs change on it and writes back what change
// changed, in one op of the writer: changes of any number are serial, which is what makes
// each one atomic. With a camsd.Call it returns once the outcome is decided,
// before the commit (see durability.go). When it writes a number's records it has the tenant
// cache forget that number's records (the keys and spaces stay); a change that only counts a
// try or adds audit records leaves the cache alone.
func (db *DB) ChangeNumber(ctx context.Context, call *camsd.Call, custSpaceID, number string, since time.Time, change func(*camsd.NumberTxn) error) error {
	var ruleErr error
	o := &op{}
	o.fn = func(tx *wtx) error {
		t, err := loadNumber(tx, custSpaceID, number, since)
		if err != nil {
			return err
		}
		before := t.Clone()
		if err := change(&t.NumberTxn); err != nil {
			ruleErr = err
			return err
		}
		records, err := t.save(tx, before)
		if records {
			o.touchesNumber = number
		}
		return err
	}
	err := db.decide(ctx, call, "change number", o)
	if ruleErr != nil {
		return ruleErr
	}
	return err
}

// numberTxn is a camsd.NumberTxn with what the store needs to write it back.
type numberTxn struct {
	camsd.NumberTxn
	codeSeq int64 // verify_codes.seq of LastCode
}

func loadNumber(tx *wtx, space, number string, since time.Time) (*numberTxn, error) {
	t := &numberTxn{NumberTxn: camsd.NumberTxn{CustSpaceID: space, Number: number}}
	rows, err := tx.query(`
		SELECT cust_space_id, id, status, verified_name, initiated_at, verified_at FROM phone_numbers
		WHERE number = ? ORDER BY cust_space_id`, number)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r := camsd.PhoneNumber{Number: number}
		var status string
		var initiated, verified int64
		if err := rows.Scan(&r.CustSpaceID, &r.ID, &status, &r.VerifiedName, &initiated, &verified); err != nil {
			return nil, err
		}
		r.Status, r.InitiatedAt, r.VerifiedAt = camsd.NumberStatus(status), fromNanos(initiated), fromNanos(verified)
		t.Records = append(t.Records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	c := camsd.VerifyCode{CustSpaceID: space, PhoneNumber: number}
	var sentAt, expiresAt, usedAt int64
	var status string
	err = tx.get(`
		SELECT seq, code, method, locale, sent_at, expires_at, request_id, access_key_id, status,
			attempts, used_at
		FROM verify_codes
		WHERE cust_space_id = ? AND number = ? AND status <> ?
		ORDER BY sent_at DESC, seq DESC
		LIMIT 1`,
		[]any{space, number, string(camsd.DeliveryFailed)},
		&t.codeSeq, &c.Code, &c.Method, &c.Locale, &sentAt, &expiresAt, &c.RequestID,
		&c.AccessKeyID, &status, &c.Attempts, &usedAt)
	switch err {
	case nil:
		c.SentAt, c.ExpiresAt, c.UsedAt = fromNanos(sentAt), fromNanos(expiresAt), fromNanos(usedAt)
		c.Status = camsd.DeliveryStatus(status)
		t.LastCode = &c
	case camsd.ErrNotFound:
	default:
		return nil, err
	}

	regs, err := tx.query(`SELECT at FROM registrations WHERE number = ? AND at >= ? ORDER BY at`,
		number, toNanos(since))
	if err != nil {
		return nil, err
	}
	defer regs.Close()
	for regs.Next() {
		var at int64
		if err := regs.Scan(&at); err != nil {
			return nil, err
		}
		t.Registrations = append(t.Registrations, fromNanos(at))
	}
	return t, regs.Err()
}

// save writes what the rule changed since before, and reports whether that included a
// number's records.
func (t *numberTxn) save(tx *wtx, before camsd.NumberTxn) (records bool, err error) {
	added, changed, codeChanged := t.Changes(before)
	records = len(added)+len(changed) > 0
	for _, r := range added {
		if err := insertNumber(tx, r); err != nil {
			return records, err
		}
	}
	for _, r := range changed {
		if _, err := tx.exec(`
			UPDATE phone_numbers SET id = ?, status = ?, verified_name = ?, initiated_at = ?, verified_at = ?
			WHERE cust_space_id = ? AND number = ?`,
			r.ID, string(r.Status), r.VerifiedName, toNanos(r.InitiatedAt), toNanos(r.VerifiedAt),
			r.CustSpaceID, t.Number); err != nil {
			return records, err
		}
	}
	if c := t.LastCode; codeChanged {
		if _, err := tx.exec(`UPDATE verify_codes SET attempts = ?, used_at = ? WHERE seq = ?`,
			c.Attempts, toNanos(c.UsedAt), t.codeSeq); err != nil {
			return records, err
		}
	}
	if !t.Register.IsZero() {
		if _, err := tx.exec(`INSERT INTO registrations (number, cust_space_id, at) VALUES (?, ?, ?)`,
			t.Number, t.CustSpaceID, toNanos(t.Register)); err != nil {
			return records, err
		}
	}
	for _, a := range t.Audit {
		if _, err := tx.exec(`
			INSERT INTO audit (at, action, cust_space_id, number, uid, user_name, access_key_id,
				request_id, outcome, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			toNanos(a.At), a.Action, a.CustSpaceID, a.PhoneNumber, a.UID, a.UserName,
			a.AccessKeyID, a.RequestID, a.Outcome, a.Detail); err != nil {
			return records, err
		}
	}
	return records, nil
}

// insertNumber adds r, with a new id (camsd.NewNumberID) when it has none. No index makes
// ids unique (a seed or the platform may give two records one id) and nothing looks a record
// up by id, so a random one is not checked against the others.
func insertNumber(tx *wtx, r *camsd.PhoneNumber) error {
	if r.ID == "" {
		id, err := camsd.NewNumberID()
		if err != nil {
			return err
		}
		r.ID = id
	}
	_, err := tx.exec(`
		INSERT INTO phone_numbers (cust_space_id, number, id, status, verified_name, initiated_at, verified_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.CustSpaceID, r.Number, r.ID, string(r.Status), r.VerifiedName, toNanos(r.InitiatedAt), toNanos(r.VerifiedAt))
	if isForeignKey(err) {
		return camsd.ErrNotFound
	}
	return err
}

// auditQuery reads the audit table and, as records of GetMigrationVerifyCode, the codes
// table: a code's record is its row (who asked, with which key, when, in which call), so it
// is not written twice. The caller's account is the space's owner, which the call checked;
// the RAM user is the key's.
const auditQuery = `
SELECT at, action, cust_space_id, number, uid, user_name, access_key_id, request_id, outcome, detail
FROM (
	SELECT at, action, cust_space_id, number, uid, user_name, access_key_id, request_id,
		outcome, detail, seq
	FROM audit
	WHERE (?1 = '' OR number = ?1) AND (?2 = '' OR uid = ?2)
	UNION ALL
	SELECT c.sent_at, 'GetMigrationVerifyCode', c.cust_space_id, c.number, s.uid,
		COALESCE(k.user_name, ''), c.access_key_id, c.request_id,
		CASE c.status WHEN 'sent' THEN 'OK' WHEN 'failed' THEN 'DeliveryFailed' ELSE 'DeliveryPending' END,
		c.method || ' code in ' || c.locale || ', delivery ' || c.status, c.seq
	FROM verify_codes c
	JOIN spaces s ON s.cust_space_id = c.cust_space_id
	LEFT JOIN access_keys k ON k.id = c.access_key_id
	WHERE (?1 = '' OR c.number = ?1) AND (?2 = '' OR s.uid = ?2)
)
ORDER BY at DESC, seq DESC
LIMIT ?3`

// Audit returns audit records newest first.
func (db *DB) Audit(ctx context.Context, q camsd.AuditQuery) ([]camsd.AuditRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	if err := db.settle(ctx); err != nil {
		return nil, wrap("audit", err)
	}
	rows, err := db.query(ctx, auditQuery, q.PhoneNumber, q.UID, limit)
	if err != nil {
		return nil, wrap("audit", err)
	}
	defer rows.Close()
	var out []camsd.AuditRecord
	for rows.Next() {
		var a camsd.AuditRecord
		var at int64
		if err := rows.Scan(&at, &a.Action, &a.CustSpaceID, &a.PhoneNumber, &a.UID, &a.UserName,
			&a.AccessKeyID, &a.RequestID, &a.Outcome, &a.Detail); err != nil {
			return nil, wrap("audit", err)
		}
		a.At = fromNanos(at)
		out = append(out, a)
	}
	return out, wrap("audit", rows.Err())
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/camsd/camsd"
)

// LastCode returns the newest code of the number, by SentAt and then by insertion.
// Returns ErrNotFound.
func (db *DB) LastCode(ctx context.Context, custSpaceID, number string) (*camsd.VerifyCode, error) {
	if err := db.settle(ctx); err != nil {
		return nil, wrap("last code", err)
	}
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
// notSentAfter; then it returns ErrConflict (a *camsd.CodeConflict that says when that code was
// sent). The check is made in memory when the gate knows
// the number (codegate.go), else by the writer in SQL; either way in the order the writes are
// queued, which is what makes the compare-and-set exact. Returns ErrNotFound when the number
// does not exist. With a camsd.Call it returns once the outcome is decided,
// before the commit (see durability.go). A code that the gate lets through goes to the
// writer's journal (journal.go).
func (db *DB) SaveCode(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time) error {
	return db.saveCode(ctx, call, c, notSentAfter, nil, 0)
}

// SaveCodeMessage is SaveCode for a code that carries its message m: m goes to the journal
// right behind the code, by the same op, only if the code does, and the outbox then keeps
// its newest keep, as with AddMessage.
func (db *DB) SaveCodeMessage(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time, m camsd.Message, keep int) error {
	return db.saveCode(ctx, call, c, notSentAfter, &m, keep)
}

func (db *DB) saveCode(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time, m *camsd.Message, keep int) error {
	k := codeKey{c.CustSpaceID, c.PhoneNumber}
	// withMessage journals m, if any, behind the code.
	withMessage := func(tx *wtx) {
		if m != nil {
			tx.w.jr.add(messageEntry(*m, keep))
		}
	}
	limit, sent := toNanos(notSentAfter), toNanos(c.SentAt)
	counts := c.Status != camsd.DeliveryFailed
	insert := func(tx *wtx) error {
		_, err := tx.exec(`
			INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at,
				expires_at, request_id, access_key_id, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.CustSpaceID, c.PhoneNumber, c.Code, c.Method, c.Locale, sent,
			toNanos(c.ExpiresAt), c.RequestID, c.AccessKeyID, string(c.Status))
		if isForeignKey(err) {
			return camsd.ErrNotFound
		}
		return err
	}
	g := &db.codes
	d := call

	g.mu.Lock()
	if e := g.entry(k); e.known && e.slow == 0 {
		if newest := e.newest; newest > limit {
			g.mu.Unlock()
			return &camsd.CodeConflict{Newest: fromNanos(newest)}
		}
		if counts {
			e.newest = max(e.newest, sent)
		}
		// The gate knows that the number exists (numbers are never deleted), so the code
		// cannot fail on its own: it goes to the journal (see journal.go). Single: no
		// statement.
		o := &op{single: true, journalSafe: true, fn: func(tx *wtx) error {
			tx.w.jr.add(jentry{kind: jCode, space: c.CustSpaceID, number: c.PhoneNumber,
				code: c.Code, method: c.Method, locale: c.Locale, at: sent,
				expiresAt: toNanos(c.ExpiresAt), requestID: c.RequestID,
				accessKeyID: c.AccessKeyID, status: string(c.Status)})
			withMessage(tx)
			return nil
		}}
		err := db.w.enqueue(ctx, o)
		g.mu.Unlock()
		if err != nil {
			g.forget(k)
			return wrap("save code", err)
		}
		if d != nil {
			d.Await(o.commit, func(err error) error { return g.settled(k, wrap("save code", err)) })
			return nil
		}
		if err := db.w.await(ctx, o, o.commit.Done()); err != nil {
			return g.settled(k, err)
		}
		return g.settled(k, wrap("save code", o.err))
	}

	e := g.entry(k)
	e.slow++
	gen := e.gen
	ran := false // read after o.executed, which the writer closes after fn
	// Single: the insert is the one change, and the last statement.
	o := &op{single: true, fn: func(tx *wtx) error {
		ran = true
		var newest int64
		err := tx.get(`
			SELECT coalesce(max(sent_at), 0) FROM verify_codes
			WHERE cust_space_id = ? AND number = ? AND status <> ?`,
			[]any{c.CustSpaceID, c.PhoneNumber, string(camsd.DeliveryFailed)}, &newest)
		switch {
		case err != nil:
		case newest > limit:
			err = &camsd.CodeConflict{Newest: fromNanos(newest)}
		default:
			if err = insert(tx); err == nil {
				withMessage(tx)
				if counts {
					newest = max(newest, sent)
				}
			}
		}
		g.learn(k, gen, newest, err == nil || errors.Is(err, camsd.ErrConflict))
		return err
	}}
	if d != nil {
		o.executed = make(chan struct{})
	}
	err := db.w.enqueue(ctx, o)
	g.mu.Unlock()
	if err != nil {
		g.learn(k, gen, 0, false)
		return wrap("save code", err)
	}
	signal := o.commit.Done()
	if d != nil {
		signal = o.executed
	}
	if err := db.w.await(ctx, o, signal); err != nil {
		g.learn(k, gen, 0, false) // withdrawn before the writer took it: fn never ran
		return err
	}
	if !ran {
		g.learn(k, gen, 0, false) // its transaction broke before it
	}
	if d == nil {
		return g.settled(k, wrap("save code", o.err))
	}
	if o.outcome != nil {
		return wrap("save code", o.outcome)
	}
	d.Await(o.commit, func(err error) error { return g.settled(k, wrap("save code", err)) })
	return nil
}

// SetCodeStatus sets the status of the code of the number sent at sentAt (of the last one
// recorded, should two share sentAt). Returns ErrNotFound: with a camsd.Call,
// from its Wait (see durability.go).
func (db *DB) SetCodeStatus(ctx context.Context, call *camsd.Call, custSpaceID, number string, sentAt time.Time, s camsd.DeliveryStatus) error {
	if s == camsd.DeliveryFailed {
		// The newest code that did not fail may now be an older one. (A code is set to
		// sent only after it was recorded pending, which changes nothing for the gate.)
		db.codes.forget(codeKey{custSpaceID, number})
	}
	// Single: at most one UPDATE; when it matched nothing there is nothing to undo.
	// journalSafe: a code still in the journal gets its status there, and one that is not is
	// in verify_codes.
	return db.write(ctx, call, "set code status", &op{single: true, journalSafe: true, fn: func(tx *wtx) error {
		if tx.w.jr.setStatus(custSpaceID, number, toNanos(sentAt), string(s)) {
			return nil
		}
		return updateCodeStatus(tx, custSpaceID, number, toNanos(sentAt), string(s))
	}}, nil)
}

// updateCodeStatus sets the status of the last code of verify_codes sent at sentAt (unix ns)
// to the number. Returns ErrNotFound when there is none.
func updateCodeStatus(tx *wtx, custSpaceID, number string, sentAt int64, s string) error {
	return oneRow(tx.exec(`
		UPDATE verify_codes SET status = ?
		WHERE seq = (
			SELECT seq FROM verify_codes
			WHERE cust_space_id = ? AND number = ? AND sent_at = ?
			ORDER BY seq DESC
			LIMIT 1)`,
		s, custSpaceID, number, sentAt))
}

// oneRow passes on the error of a statement that changes one row at most, and ErrNotFound
// when it changed none.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return camsd.ErrNotFound
	}
	return nil
}

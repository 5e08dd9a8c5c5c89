package sqlite

import (
	"context"

	"github.com/camsd/camsd"
)

// AddMessage records m and, when keep > 0, deletes all but the newest keep messages when its
// transaction commits. With a camsd.Durability in ctx it returns once the write is queued.
func (db *DB) AddMessage(ctx context.Context, m camsd.Message, keep int) error {
	// Single: one INSERT; the trim is the transaction's, once, whoever asked for it.
	o := &op{single: true, fn: func(tx *wtx) error {
		res, err := tx.exec(`
			INSERT INTO messages (phone_number, method, locale, code, text, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
			m.PhoneNumber, m.Method, m.Locale, m.Code, m.Text, toNanos(m.CreatedAt))
		if err != nil || keep <= 0 {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		tx.w.outbox.owe(id, keep)
		return nil
	}}
	return db.write(ctx, "add message", o, nil)
}

// outboxTrim is the trim of the outbox that the writer's open transaction owes: one DELETE
// when it commits, rather than one per message.
type outboxTrim struct {
	newest int64 // the id of the newest message added; 0: no trim owed
	keep   int
}

func (t *outboxTrim) owe(id int64, keep int) {
	t.newest, t.keep = id, keep
}

// flush deletes all but the newest keep messages inside tx, if a trim is owed.
// AUTOINCREMENT ids are dense here (a rolled-back insert takes its id back with it), so this
// keeps exactly keep rows, and it is a range delete on the primary key instead of a count.
func (t *outboxTrim) flush(tx *wtx) error {
	if t.newest == 0 {
		return nil
	}
	_, err := tx.exec(`DELETE FROM messages WHERE id <= ?`, t.newest-int64(t.keep))
	t.reset()
	return err
}

func (t *outboxTrim) reset() { *t = outboxTrim{} }

// Messages returns captured messages newest first, to phoneNumber only when it is not empty,
// at most limit (limit <= 0: all).
func (db *DB) Messages(ctx context.Context, phoneNumber string, limit int) ([]camsd.Message, error) {
	if limit <= 0 {
		limit = -1 // SQLite's "no limit"
	}
	// Two statements rather than "? = '' OR phone_number = ?": the outbox is bounded, so the
	// second scans at most what it holds, newest first, and stops at limit.
	query, args := `
		SELECT phone_number, method, locale, code, text, created_at FROM messages
		ORDER BY id DESC LIMIT ?`, []any{limit}
	if phoneNumber != "" {
		query, args = `
			SELECT phone_number, method, locale, code, text, created_at FROM messages
			WHERE phone_number = ?
			ORDER BY id DESC LIMIT ?`, []any{phoneNumber, limit}
	}
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, wrap("messages", err)
	}
	defer rows.Close()
	var ms []camsd.Message
	for rows.Next() {
		var m camsd.Message
		var createdAt int64
		if err := rows.Scan(&m.PhoneNumber, &m.Method, &m.Locale, &m.Code, &m.Text, &createdAt); err != nil {
			return nil, wrap("messages", err)
		}
		m.CreatedAt = fromNanos(createdAt)
		ms = append(ms, m)
	}
	return ms, wrap("messages", rows.Err())
}

package sqlite

import (
	"context"

	"github.com/camsd/camsd"
)

// AddMessage records m and, when keep > 0, deletes all but the newest keep messages. With a
// camsd.Call it returns once the write is queued. The message goes to the
// writer's journal, and to the messages table with the journal's next application (see
// journal.go), which inserts only the messages that the outbox keeps.
func (db *DB) AddMessage(ctx context.Context, call *camsd.Call, m camsd.Message, keep int) error {
	// Single: no statement; journalSafe: it only journals.
	o := &op{single: true, journalSafe: true, fn: func(tx *wtx) error {
		tx.w.jr.add(messageEntry(m, keep))
		return nil
	}}
	return db.write(ctx, call, "add message", o, nil)
}

// messageEntry is m's journal entry, with the outbox's bound.
func messageEntry(m camsd.Message, keep int) jentry {
	return jentry{kind: jMessage, number: m.PhoneNumber, method: m.Method, locale: m.Locale,
		code: m.Code, text: m.Text, at: toNanos(m.CreatedAt), keep: int64(max(keep, 0))}
}

// Messages returns captured messages newest first, to phoneNumber only when it is not empty,
// at most limit (limit <= 0: all).
func (db *DB) Messages(ctx context.Context, phoneNumber string, limit int) ([]camsd.Message, error) {
	if limit <= 0 {
		limit = -1 // SQLite's "no limit"
	}
	if err := db.settle(ctx); err != nil {
		return nil, wrap("messages", err)
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

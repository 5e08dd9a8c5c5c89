package postgres

import (
	"context"
	"hash/fnv"

	"github.com/camsd/camsd"
	"github.com/jackc/pgx/v5"
)

// outboxLock is the key of the transaction-level advisory lock that one group at a time holds
// while it trims the outbox. A group that finds it taken does not wait: the trim in progress,
// or the next one, removes what is over keep. So adds never queue behind each other's
// commits, and the outbox holds more than keep messages only while groups race.
const outboxLock int64 = 0x63616d73_644f7574 // "camsdOut"

// outboxLockOf is outboxLock for the outbox in schema: advisory locks are the whole
// database's, and the groups of a camsd in another schema of it (another deployment, another
// test) must not make this one's trims skip.
func outboxLockOf(schema string) int64 {
	if schema == "" {
		return outboxLock
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	return outboxLock ^ int64(h.Sum64())
}

// AddMessage records m and, when keep > 0, has its group delete all but the newest keep
// messages (unless another group is trimming at that moment), as a grouped write (group.go).
// It returns once committed, or with a call once queued, the call's Wait reporting the commit.
func (db *DB) AddMessage(ctx context.Context, call *camsd.Call, m camsd.Message, keep int) error {
	return db.groups.later(ctx, call, &write{kind: kindMessage, msg: m, keep: keep}, func(err error) error {
		return wrap("add message", err)
	})
}

// Messages returns captured messages newest first, to phoneNumber only when it is not empty,
// at most limit (limit <= 0: all).
func (db *DB) Messages(ctx context.Context, phoneNumber string, limit int) ([]camsd.Message, error) {
	var lim *int // LIMIT NULL: all
	if limit > 0 {
		lim = &limit
	}
	// Two statements rather than "$1 = '' OR phone_number = $1", whose generic plan could not
	// use the index on phone_number.
	query, args := `
		SELECT phone_number, method, locale, code, text, created_at FROM messages
		ORDER BY id DESC LIMIT $1`, []any{lim}
	if phoneNumber != "" {
		query, args = `
			SELECT phone_number, method, locale, code, text, created_at FROM messages
			WHERE phone_number = $1
			ORDER BY id DESC LIMIT $2`, []any{phoneNumber, lim}
	}
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap("messages", err)
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (camsd.Message, error) {
		var m camsd.Message
		var createdAt int64
		err := row.Scan(&m.PhoneNumber, &m.Method, &m.Locale, &m.Code, &m.Text, &createdAt)
		m.CreatedAt = fromNanos(createdAt)
		return m, err
	})
	if err != nil || len(ms) == 0 {
		return nil, wrap("messages", err) // none is nil, as from the SQLite store
	}
	return ms, nil
}

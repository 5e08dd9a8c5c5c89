package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/camsd/camsd"
)

// Use records nonce for the AccessKey until expires, durably (with a camsd.Call: once its Wait
// returns). Returns ErrNonceUsed if it is recorded and not yet expired, and
// ErrNonceStoreFull if the key holds MaxNonces live nonces.
//
// The in-memory index decides (exactly one of concurrent Uses of a nonce wins there), then the
// nonce goes to the writer's journal, and from there, with the other nonces applied with it,
// to one row of nonce_log (journal.go), so that a restart still refuses it. If that write
// fails, the nonce is not used: the index forgets it and the client may retry.
func (db *DB) Use(ctx context.Context, call *camsd.Call, accessKeyID, nonce string, expires time.Time) error {
	now, exp := db.now().UnixNano(), toNanos(expires)
	if err := db.nonces.reserve(accessKeyID, nonce, exp, now); err != nil {
		return err
	}
	// Single: no statement; journalSafe: it only journals.
	o := &op{single: true, journalSafe: true, fn: func(tx *wtx) error {
		tx.w.jr.add(jentry{kind: jNonce, accessKeyID: accessKeyID, code: nonce, expiresAt: exp})
		return nil
	}}
	return db.write(ctx, call, "use nonce", o, func() { db.nonces.unreserve(accessKeyID, nonce, exp) })
}

// loadNonces drops the rows whose nonces have all expired and fills the index with the live
// ones.
func (db *DB) loadNonces(ctx context.Context) error {
	max := db.MaxNonces
	if max <= 0 {
		max = 1_000_000
	}
	db.nonces = newNonceIndex(max)
	now := db.now().UnixNano()
	err := db.w.do(ctx, &op{single: true, fn: func(tx *wtx) error {
		_, err := tx.exec(`DELETE FROM nonce_log WHERE expires_at <= ?`, now)
		return err
	}})
	if err != nil {
		return fmt.Errorf("sqlite: prune nonces: %w", err)
	}
	rows, err := db.query(ctx, `SELECT seq, entries FROM nonce_log`)
	if err != nil {
		return fmt.Errorf("sqlite: load nonces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var entries string
		if err := rows.Scan(&seq, &entries); err != nil {
			return fmt.Errorf("sqlite: load nonces: %w", err)
		}
		err := parseNonceEntries(entries, func(akid, nonce string, exp int64) {
			if exp > now {
				db.nonces.load(akid, nonce, exp)
			}
		})
		if err != nil {
			return fmt.Errorf("sqlite: load nonces: row %d: %w", seq, err)
		}
	}
	return rows.Err()
}

// NonceCount is how many nonces the store remembers (live, and expired ones not yet pruned),
// for metrics.
func (db *DB) NonceCount() int { return db.nonces.len() }

package sqlite

import (
	"context"
	"fmt"
	"time"
)

const (
	// pruneEvery and pruneBatch bound the table's cleanup: every pruneEvery-th Use also
	// deletes up to pruneBatch expired rows in its own transaction, which outpaces inserts
	// fourfold and is a short range scan on nonces_expiry.
	pruneEvery = 64
	pruneBatch = 4 * pruneEvery
)

// Use records nonce for the AccessKey until expires, durably (with a camsd.Durability in ctx:
// once its Wait returns). Returns ErrNonceUsed if it is recorded and not yet expired, and
// ErrNonceStoreFull if the key holds MaxNonces live nonces.
//
// The in-memory index decides (exactly one of concurrent Uses of a nonce wins there), then the
// nonce is written through the group-commit writer so that a restart still refuses it. If
// that write fails, the nonce is not used: the index forgets it and the client may retry.
func (db *DB) Use(ctx context.Context, accessKeyID, nonce string, expires time.Time) error {
	now, exp := db.now().UnixNano(), toNanos(expires)
	if err := db.nonces.reserve(accessKeyID, nonce, exp, now); err != nil {
		return err
	}
	prune := db.nonceUses.Add(1)%pruneEvery == 0
	o := &op{single: !prune, fn: func(tx *wtx) error {
		if prune {
			if _, err := tx.exec(`
				DELETE FROM nonces WHERE (access_key_id, nonce) IN (
					SELECT access_key_id, nonce FROM nonces WHERE expires_at <= ? LIMIT ?)`,
				now, pruneBatch); err != nil {
				return err
			}
		}
		_, err := tx.exec(`
			INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at`,
			accessKeyID, nonce, exp)
		return err
	}}
	return db.write(ctx, "use nonce", o, func() { db.nonces.unreserve(accessKeyID, nonce, exp) })
}

// loadNonces drops the expired rows and fills the index with the live ones.
func (db *DB) loadNonces(ctx context.Context) error {
	max := db.MaxNonces
	if max <= 0 {
		max = 1_000_000
	}
	db.nonces = newNonceIndex(max)
	now := db.now().UnixNano()
	err := db.w.do(ctx, &op{single: true, fn: func(tx *wtx) error {
		_, err := tx.exec(`DELETE FROM nonces WHERE expires_at <= ?`, now)
		return err
	}})
	if err != nil {
		return fmt.Errorf("sqlite: prune nonces: %w", err)
	}
	rows, err := db.query(ctx, `SELECT access_key_id, nonce, expires_at FROM nonces`)
	if err != nil {
		return fmt.Errorf("sqlite: load nonces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var akid, nonce string
		var exp int64
		if err := rows.Scan(&akid, &nonce, &exp); err != nil {
			return fmt.Errorf("sqlite: load nonces: %w", err)
		}
		db.nonces.load(akid, nonce, exp)
	}
	return rows.Err()
}

// NonceCount is how many nonces the store remembers (live, and expired ones not yet pruned),
// for metrics.
func (db *DB) NonceCount() int { return db.nonces.len() }

-- Nonces are written a transaction's worth at a time: one row holds every nonce that its
-- transaction used, as lines "<hex AccessKey id> <hex nonce> <expiry>", and expires with
-- the latest of them. Rows are appended in rowid order, so a commit writes one row at the
-- end of the table instead of one row per nonce at random places in an index (see nonce.go).
CREATE TABLE nonce_log (
	seq        INTEGER PRIMARY KEY,
	expires_at INTEGER NOT NULL,
	entries    TEXT    NOT NULL
);

CREATE INDEX nonce_log_expiry ON nonce_log (expires_at);

INSERT INTO nonce_log (expires_at, entries)
SELECT expires_at, hex(access_key_id) || ' ' || hex(nonce) || ' ' || expires_at || char(10)
FROM nonces;

DROP TABLE nonces;

-- The outbox is bounded (the newest messages only), so a read of one number's messages
-- scans it; an index on the number would cost a write at a random place per message.
DROP INDEX messages_phone;

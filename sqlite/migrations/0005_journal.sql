-- Codes sent, their delivery status and captured messages are written a transaction's worth
-- at a time: one row holds, in order, every such write of the transaction that made it (see
-- journal.go). Rows are appended in rowid order, so a commit writes one row at the end of
-- this table instead of a row, an index entry at a random place and an update per code. The
-- writer applies the rows to verify_codes and messages, many transactions' worth at once,
-- and deletes them in the same transaction; a read of those tables waits for that first.
CREATE TABLE journal (
	seq     INTEGER PRIMARY KEY,
	entries BLOB    NOT NULL
);

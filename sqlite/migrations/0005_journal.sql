-- Nonces, codes sent, their delivery status and captured messages are first journaled, a
-- group of writes at a time, in a log file beside the database (camsd.db-log), and applied
-- to nonce_log, verify_codes and messages many groups' worth at once (see journal.go). gen is
-- the generation of that log that the tables have every record of; Open applies what the log
-- holds of a later one.
CREATE TABLE journal_state (
	gen INTEGER NOT NULL
);

INSERT INTO journal_state (gen) VALUES (0);

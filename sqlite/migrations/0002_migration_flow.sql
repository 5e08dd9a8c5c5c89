-- The whole migration flow: a number's migration and verification, checks against a code,
-- registrations, and the audit trail. Times are unix nanoseconds UTC, 0 for none.
ALTER TABLE phone_numbers ADD COLUMN initiated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE phone_numbers ADD COLUMN verified_at  INTEGER NOT NULL DEFAULT 0;

-- ChangeNumber reads every space's record of a number.
CREATE INDEX phone_numbers_number ON phone_numbers (number);

ALTER TABLE verify_codes ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE verify_codes ADD COLUMN used_at  INTEGER NOT NULL DEFAULT 0;

-- Ids of numbers that CreateChatappMigrationInitiate adds: the id is 100000000000000 + seq,
-- fifteen digits like Meta's phone-number ids. AUTOINCREMENT never hands out a seq twice.
CREATE TABLE number_ids (
	seq INTEGER PRIMARY KEY AUTOINCREMENT
);

-- Registrations of a number (WhatsApp allows 10 per number in 72 hours, in any space).
CREATE TABLE registrations (
	number        TEXT    NOT NULL,
	cust_space_id TEXT    NOT NULL,
	at            INTEGER NOT NULL
);

CREATE INDEX registrations_number ON registrations (number, at);

-- Who changed which number, when, with which key, in which call, and how it ended. Codes
-- sent are recorded in verify_codes and read into the same trail (see audit.go).
CREATE TABLE audit (
	seq           INTEGER PRIMARY KEY,
	at            INTEGER NOT NULL,
	action        TEXT    NOT NULL,
	cust_space_id TEXT    NOT NULL,
	number        TEXT    NOT NULL,
	uid           TEXT    NOT NULL,
	user_name     TEXT    NOT NULL,
	access_key_id TEXT    NOT NULL,
	request_id    TEXT    NOT NULL,
	outcome       TEXT    NOT NULL,
	detail        TEXT    NOT NULL
);

CREATE INDEX audit_number ON audit (number, at);
CREATE INDEX audit_uid ON audit (uid, at);

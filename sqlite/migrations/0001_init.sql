-- Tenants: what a seed file declares. Keys of RAM users point at their user through
-- (uid, user_name); an account's own keys have user_name NULL, which the foreign key lets
-- through.
CREATE TABLE accounts (
	uid        TEXT    PRIMARY KEY,
	name       TEXT    NOT NULL,
	subscribed INTEGER NOT NULL,
	qps        INTEGER NOT NULL
);

CREATE TABLE users (
	uid  TEXT NOT NULL REFERENCES accounts (uid),
	name TEXT NOT NULL,
	PRIMARY KEY (uid, name)
);

CREATE TABLE access_keys (
	id        TEXT PRIMARY KEY,
	secret    TEXT NOT NULL,
	uid       TEXT NOT NULL REFERENCES accounts (uid),
	user_name TEXT,
	status    TEXT NOT NULL,
	FOREIGN KEY (uid, user_name) REFERENCES users (uid, name)
);

-- A user's policies in the order the seed lists them; ApplySeed replaces the whole list.
CREATE TABLE user_policies (
	uid       TEXT    NOT NULL,
	user_name TEXT    NOT NULL,
	position  INTEGER NOT NULL,
	document  TEXT    NOT NULL,
	PRIMARY KEY (uid, user_name, position),
	FOREIGN KEY (uid, user_name) REFERENCES users (uid, name) ON DELETE CASCADE
);

CREATE TABLE spaces (
	cust_space_id TEXT PRIMARY KEY,
	uid           TEXT NOT NULL REFERENCES accounts (uid),
	name          TEXT NOT NULL
);

CREATE TABLE phone_numbers (
	cust_space_id TEXT NOT NULL REFERENCES spaces (cust_space_id),
	number        TEXT NOT NULL,
	id            TEXT NOT NULL,
	status        TEXT NOT NULL,
	PRIMARY KEY (cust_space_id, number)
);

-- Every code ever sent, never updated except for its delivery status. Times are unix
-- nanoseconds UTC. seq is the rowid: it breaks ties between codes with the same sent_at in
-- favour of the one inserted last.
CREATE TABLE verify_codes (
	seq           INTEGER PRIMARY KEY,
	cust_space_id TEXT    NOT NULL,
	number        TEXT    NOT NULL,
	code          TEXT    NOT NULL,
	method        TEXT    NOT NULL,
	locale        TEXT    NOT NULL,
	sent_at       INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	request_id    TEXT    NOT NULL,
	access_key_id TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	FOREIGN KEY (cust_space_id, number) REFERENCES phone_numbers (cust_space_id, number)
);

-- The newest code of a number, and SaveCode's "any code sent after T" range scan, are both a
-- seek on this index (the rowid seq is its implicit last column).
CREATE INDEX verify_codes_newest ON verify_codes (cust_space_id, number, sent_at);

-- Signature nonces: written through for restarts, checked in memory (see nonce.go).
CREATE TABLE nonces (
	access_key_id TEXT    NOT NULL,
	nonce         TEXT    NOT NULL,
	expires_at    INTEGER NOT NULL,
	PRIMARY KEY (access_key_id, nonce)
) WITHOUT ROWID;

CREATE INDEX nonces_expiry ON nonces (expires_at);

-- The simulated provider's outbox. AUTOINCREMENT keeps ids increasing and never reused, so
-- "the newest keep messages" are those with id > newest - keep.
CREATE TABLE messages (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	phone_number TEXT    NOT NULL,
	method       TEXT    NOT NULL,
	locale       TEXT    NOT NULL,
	code         TEXT    NOT NULL,
	text         TEXT    NOT NULL,
	created_at   INTEGER NOT NULL
);

CREATE INDEX messages_phone ON messages (phone_number, id);

-- The system of record: the tables of sqlite/migrations, in PostgreSQL's dialect. Times of the
-- API's records are bigint unix nanoseconds UTC, 0 for none, as in SQLite: timestamptz keeps
-- only microseconds, and a Store returns the times it is given.

-- Tenants: what a seed file declares. Keys of RAM users point at their user through
-- (uid, user_name); an account's own keys have user_name NULL, which the foreign key lets
-- through (MATCH SIMPLE).
CREATE TABLE accounts (
	uid        text    PRIMARY KEY,
	name       text    NOT NULL,
	subscribed boolean NOT NULL,
	qps        integer NOT NULL
);

CREATE TABLE users (
	uid  text NOT NULL REFERENCES accounts (uid),
	name text NOT NULL,
	PRIMARY KEY (uid, name)
);

CREATE TABLE access_keys (
	id        text PRIMARY KEY,
	secret    text NOT NULL,
	uid       text NOT NULL REFERENCES accounts (uid),
	user_name text,
	status    text NOT NULL,
	FOREIGN KEY (uid, user_name) REFERENCES users (uid, name)
);

-- A user's policies in the order the seed lists them; ApplySeed replaces the whole list.
CREATE TABLE user_policies (
	uid       text    NOT NULL,
	user_name text    NOT NULL,
	position  integer NOT NULL,
	document  text    NOT NULL,
	PRIMARY KEY (uid, user_name, position),
	FOREIGN KEY (uid, user_name) REFERENCES users (uid, name) ON DELETE CASCADE
);

-- waba_id and pin are the WhatsApp Business Account and registration PIN, for the Graph
-- API provider; '' when not set.
CREATE TABLE spaces (
	cust_space_id text PRIMARY KEY,
	uid           text NOT NULL REFERENCES accounts (uid),
	name          text NOT NULL,
	waba_id       text NOT NULL DEFAULT '',
	pin           text NOT NULL DEFAULT ''
);

CREATE TABLE phone_numbers (
	cust_space_id text   NOT NULL REFERENCES spaces (cust_space_id),
	number        text   NOT NULL,
	id            text   NOT NULL,
	status        text   NOT NULL,
	initiated_at  bigint NOT NULL DEFAULT 0,
	verified_at   bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (cust_space_id, number)
);

-- ChangeNumber reads every space's record of a number.
CREATE INDEX phone_numbers_number ON phone_numbers (number);

-- Ids of the numbers that CreateChatappMigrationInitiate adds: fifteen digits, like Meta's
-- phone-number ids. A sequence never hands out a value twice, whichever replica asks.
CREATE SEQUENCE number_ids START 100000000000001;

-- Every code ever sent. seq breaks ties between codes with the same sent_at in favour of the
-- one inserted last.
CREATE TABLE verify_codes (
	seq           bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cust_space_id text    NOT NULL,
	number        text    NOT NULL,
	code          text    NOT NULL,
	method        text    NOT NULL,
	locale        text    NOT NULL,
	sent_at       bigint  NOT NULL,
	expires_at    bigint  NOT NULL,
	request_id    text    NOT NULL,
	access_key_id text    NOT NULL,
	status        text    NOT NULL,
	attempts      integer NOT NULL DEFAULT 0,
	used_at       bigint  NOT NULL DEFAULT 0,
	FOREIGN KEY (cust_space_id, number) REFERENCES phone_numbers (cust_space_id, number)
);

-- The newest code of a number, SaveCode's "any code sent after T" and SetCodeStatus's lookup
-- are all a seek on this index.
CREATE INDEX verify_codes_newest ON verify_codes (cust_space_id, number, sent_at, seq);

-- Registrations of a number (WhatsApp allows 10 per number in 72 hours, in any space).
CREATE TABLE registrations (
	number        text   NOT NULL,
	cust_space_id text   NOT NULL,
	at            bigint NOT NULL
);

CREATE INDEX registrations_number ON registrations (number, at);

-- Who changed which number, when, with which key, in which call, and how it ended. Codes sent
-- are recorded in verify_codes and read into the same trail (see number.go).
CREATE TABLE audit (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at            bigint NOT NULL,
	action        text   NOT NULL,
	cust_space_id text   NOT NULL,
	number        text   NOT NULL,
	uid           text   NOT NULL,
	user_name     text   NOT NULL,
	access_key_id text   NOT NULL,
	request_id    text   NOT NULL,
	outcome       text   NOT NULL,
	detail        text   NOT NULL
);

CREATE INDEX audit_number ON audit (number, at);
CREATE INDEX audit_uid ON audit (uid, at);

-- The simulated provider's outbox. AddMessage inserts under a lock (see outbox.go), so ids
-- increase in the order the messages were added.
CREATE TABLE messages (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	phone_number text   NOT NULL,
	method       text   NOT NULL,
	locale       text   NOT NULL,
	code         text   NOT NULL,
	text         text   NOT NULL,
	created_at   bigint NOT NULL
);

CREATE INDEX messages_phone ON messages (phone_number, id);

-- RAM roles (issue 15): who may assume each (its trust policy) and what its sessions may do
-- (its permission policies, in the order the seed lists them; ApplySeed replaces the list).
CREATE TABLE roles (
	uid                  TEXT    NOT NULL REFERENCES accounts (uid),
	name                 TEXT    NOT NULL,
	max_session_duration INTEGER NOT NULL,
	trust_policy         TEXT    NOT NULL,
	PRIMARY KEY (uid, name)
);

CREATE TABLE role_policies (
	uid       TEXT    NOT NULL,
	role_name TEXT    NOT NULL,
	position  INTEGER NOT NULL,
	document  TEXT    NOT NULL,
	PRIMARY KEY (uid, role_name, position),
	FOREIGN KEY (uid, role_name) REFERENCES roles (uid, name) ON DELETE CASCADE
);

-- The key that signs STS security tokens: made once, by the first start that needs it, and
-- read at every start (one row).
CREATE TABLE sts_signing_key (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	key BLOB    NOT NULL
);

-- RAM roles (issue 15): who may assume each (its trust policy) and what its sessions may do
-- (its permission policies, in the order the seed lists them; ApplySeed replaces the list).
-- Both tables notify like the other tenant tables (0004), so that every replica's cache of
-- roles, which calls signed with STS credentials read, drops what changed.
CREATE TABLE roles (
	uid                  text    NOT NULL REFERENCES accounts (uid),
	name                 text    NOT NULL,
	max_session_duration integer NOT NULL,
	trust_policy         text    NOT NULL,
	PRIMARY KEY (uid, name)
);

CREATE TABLE role_policies (
	uid       text    NOT NULL,
	role_name text    NOT NULL,
	position  integer NOT NULL,
	document  text    NOT NULL,
	PRIMARY KEY (uid, role_name, position),
	FOREIGN KEY (uid, role_name) REFERENCES roles (uid, name) ON DELETE CASCADE
);

CREATE TRIGGER roles_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON roles
	FOR EACH STATEMENT EXECUTE FUNCTION tenant_notify();
CREATE TRIGGER role_policies_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_policies
	FOR EACH STATEMENT EXECUTE FUNCTION tenant_notify();

-- The key that signs STS security tokens: made once, by the first replica that starts
-- without one, and read by every replica at its start (one row).
CREATE TABLE sts_signing_key (
	id  integer PRIMARY KEY CHECK (id = 1),
	key bytea   NOT NULL
);

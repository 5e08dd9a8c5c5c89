-- Every replica caches the tenants that each request reads (keys with their account, user and
-- policies; spaces: see cache.go). Whatever changes the tables they come from, camsd's admin
-- API, a seed or psql, tells every replica through NOTIFY, and each drops what it cached.
--
-- The channel names the schema, so that stores in different schemas of one database do not
-- wake each other: 'camsd_tenants_' and the schema's name, or a hash of it when the name is
-- too long for a channel (63 bytes). The payload is the table's name. PostgreSQL delivers a
-- transaction's notifications only once it has committed, and sends one of each channel and
-- payload per transaction, so an ApplySeed of many rows notifies at most five times.
CREATE FUNCTION tenant_channel(p_schema text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT 'camsd_tenants_' || CASE
		WHEN octet_length(p_schema) <= 40 THEN p_schema
		ELSE left(encode(sha256(convert_to(p_schema, 'UTF8')), 'hex'), 40)
	END
$$;

-- SET search_path FROM CURRENT: the trigger finds tenant_channel in camsd's schema whatever
-- the search_path of the session that made the change (psql's, say).
CREATE FUNCTION tenant_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	PERFORM pg_notify(tenant_channel(TG_TABLE_SCHEMA), TG_TABLE_NAME);
	RETURN NULL;
END
$$;

-- One notification per statement, not per row, and TRUNCATE too.
CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
	FOR EACH STATEMENT EXECUTE FUNCTION tenant_notify();
CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION tenant_notify();
CREATE TRIGGER access_keys_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON access_keys
	FOR EACH STATEMENT EXECUTE FUNCTION tenant_notify();
CREATE TRIGGER user_policies_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_policies
	FOR EACH STATEMENT EXECUTE FUNCTION tenant_notify();
CREATE TRIGGER spaces_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON spaces
	FOR EACH STATEMENT EXECUTE FUNCTION tenant_notify();

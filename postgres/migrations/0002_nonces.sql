-- Signature nonces, shared by every replica (see nonce.go).
--
-- nonce_keys has a row for each AccessKey that holds nonces. Locking it orders the Uses of the
-- key on every replica, which is what makes "accepted once" and the bound on live nonces exact,
-- and it counts the key's rows in nonces (held), so that the bound needs no count(*).
CREATE TABLE nonce_keys (
	access_key_id text    PRIMARY KEY,
	held          integer NOT NULL, -- the key's rows in nonces, live or expired
	latest_expiry bigint  NOT NULL  -- the latest expires_at among them: past it, all expired
);

-- Times are unix nanoseconds, judged by the clock of the replica that calls.
CREATE TABLE nonces (
	access_key_id text   NOT NULL,
	nonce         text   NOT NULL,
	expires_at    bigint NOT NULL,
	PRIMARY KEY (access_key_id, nonce)
);

CREATE INDEX nonces_expiry ON nonces (access_key_id, expires_at);

-- nonce_use records p_nonce of p_key until p_expires, judging expiry at p_now, in one statement
-- (so one transaction), and returns 'ok'; 'used' when the nonce is recorded and live; 'full'
-- when the key holds p_max live nonces. A live nonce is never deleted to make room.
CREATE FUNCTION nonce_use(p_key text, p_nonce text, p_expires bigint, p_now bigint, p_max integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_held    integer;
	v_expires bigint;
	v_known   boolean;
	v_gone    integer;
BEGIN
	-- Lock the key's row, making it first if need be. Every statement of a volatile function
	-- takes a new snapshot, so the statements after the lock see every Use of the key that
	-- committed before it.
	LOOP
		SELECT held INTO v_held FROM nonce_keys WHERE access_key_id = p_key FOR UPDATE;
		EXIT WHEN FOUND;
		INSERT INTO nonce_keys (access_key_id, held, latest_expiry) VALUES (p_key, 0, 0)
		ON CONFLICT (access_key_id) DO NOTHING;
	END LOOP;

	SELECT expires_at INTO v_expires FROM nonces WHERE access_key_id = p_key AND nonce = p_nonce;
	v_known := FOUND;
	IF v_known AND v_expires > p_now THEN
		RETURN 'used';
	END IF;

	IF v_known THEN
		-- Expired: it may be used again, in the place of its old record.
		UPDATE nonces SET expires_at = p_expires WHERE access_key_id = p_key AND nonce = p_nonce;
	ELSE
		-- Two expired nonces of the key leave with each new one, so that the key's rows
		-- follow its live nonces instead of piling up until the bound.
		DELETE FROM nonces WHERE access_key_id = p_key AND nonce IN (
			SELECT nonce FROM nonces WHERE access_key_id = p_key AND expires_at <= p_now LIMIT 2);
		GET DIAGNOSTICS v_gone = ROW_COUNT;
		v_held := v_held - v_gone;
		IF v_held >= p_max THEN
			-- As many rows as the bound, but some may have expired: only live ones count.
			DELETE FROM nonces WHERE access_key_id = p_key AND expires_at <= p_now;
			GET DIAGNOSTICS v_gone = ROW_COUNT;
			v_held := v_held - v_gone;
		END IF;
		IF v_held >= p_max THEN
			UPDATE nonce_keys SET held = v_held WHERE access_key_id = p_key;
			RETURN 'full';
		END IF;
		INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (p_key, p_nonce, p_expires);
		v_held := v_held + 1;
	END IF;

	UPDATE nonce_keys SET held = v_held, latest_expiry = greatest(latest_expiry, p_expires)
	WHERE access_key_id = p_key;
	RETURN 'ok';
END
$$;

-- nonce_sweep deletes up to p_limit nonces of one key whose nonces have all expired at p_now,
-- and the key's row once it has none left, so that keys no longer used do not keep their rows
-- forever (a key in use prunes its own in nonce_use). It returns how many nonces it deleted.
-- SKIP LOCKED: a key that a Use holds is in use, and a sweep never waits.
CREATE FUNCTION nonce_sweep(p_now bigint, p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	v_key  text;
	v_gone integer;
BEGIN
	SELECT access_key_id INTO v_key FROM nonce_keys WHERE latest_expiry <= p_now
	LIMIT 1 FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	DELETE FROM nonces WHERE access_key_id = v_key AND nonce IN (
		SELECT nonce FROM nonces WHERE access_key_id = v_key LIMIT p_limit);
	GET DIAGNOSTICS v_gone = ROW_COUNT;
	IF v_gone < p_limit THEN
		-- That was all of them: no Use can add one while the key is locked.
		DELETE FROM nonce_keys WHERE access_key_id = v_key;
	ELSE
		UPDATE nonce_keys SET held = held - v_gone WHERE access_key_id = v_key;
	END IF;
	RETURN v_gone;
END
$$;

-- Group commit (see group.go): the durable writes of many concurrent calls of one replica in
-- one statement, so one transaction, one round trip and one WAL flush for all of them.
--
-- write_group takes one array per field of each kind of write, all of one kind the same
-- length, and returns one row per write: its kind ('n' nonce, 'c' code, 's' code status,
-- 'm' message), its index in its kind's arrays (from 1), and its verdict:
--   nonce:   'ok', 'used' or 'full' (nonce_use's);
--   code:    'ok', 'notfound' (no such number), or 'conflict' with newest, the sent_at of the
--            newest code of the number that did not fail and was sent after c_not_after;
--            when the code carries its call's nonce (c_nonce_key not ''), that nonce is
--            recorded first, and 'used' or 'full' (nonce_use's) refuse the code;
--   status:  'ok' or 'notfound';
--   message: 'ok'.
-- Writes of one kind are made in the order of their arrays, so a later write of the group
-- sees an earlier one (two codes for one number: the second is a conflict).
--
-- Locks are taken first, all of them, in one order: the advisory locks of the codes' numbers
-- by key, then the nonce_keys rows of the nonces' AccessKeys by id. Every other transaction
-- that locks several of these takes them in the same order (ChangeNumber holds one number's
-- lock), so groups of any replicas never wait for each other in a cycle.
CREATE FUNCTION write_group(
	n_key text[], n_nonce text[], n_expires bigint[], n_now bigint[], p_max integer,
	c_space text[], c_number text[], c_code text[], c_method text[], c_locale text[],
	c_sent bigint[], c_expires bigint[], c_request text[], c_access_key text[],
	c_status text[], c_not_after bigint[],
	c_nonce_key text[], c_nonce text[], c_nonce_expires bigint[], c_nonce_now bigint[],
	s_space text[], s_number text[], s_sent bigint[], s_status text[],
	m_phone text[], m_method text[], m_locale text[], m_code text[], m_text text[],
	m_created bigint[], p_keep integer, p_outbox_lock bigint)
RETURNS TABLE (kind text, idx integer, verdict text, newest bigint)
LANGUAGE plpgsql AS $$
DECLARE
	i      integer;
	v_lock bigint;
	v_key  text;
	v_sent bigint;
BEGIN
	FOR v_lock IN
		SELECT DISTINCT hashtextextended(x, 0) AS h FROM unnest(c_number) AS x ORDER BY h
	LOOP
		PERFORM pg_advisory_xact_lock(v_lock);
	END LOOP;
	FOR v_key IN
		SELECT DISTINCT x FROM unnest(n_key || c_nonce_key) AS x WHERE x <> '' ORDER BY x
	LOOP
		LOOP
			PERFORM 1 FROM nonce_keys WHERE access_key_id = v_key FOR UPDATE;
			EXIT WHEN FOUND;
			INSERT INTO nonce_keys (access_key_id, held, latest_expiry) VALUES (v_key, 0, 0)
			ON CONFLICT (access_key_id) DO NOTHING;
		END LOOP;
	END LOOP;

	FOR i IN 1 .. coalesce(cardinality(n_key), 0) LOOP
		kind := 'n'; idx := i; newest := 0;
		verdict := nonce_use(n_key[i], n_nonce[i], n_expires[i], n_now[i], p_max);
		RETURN NEXT;
	END LOOP;

	FOR i IN 1 .. coalesce(cardinality(c_number), 0) LOOP
		kind := 'c'; idx := i; newest := 0;
		verdict := 'ok';
		IF c_nonce_key[i] <> '' THEN
			verdict := nonce_use(c_nonce_key[i], c_nonce[i], c_nonce_expires[i], c_nonce_now[i], p_max);
		END IF;
		IF verdict <> 'ok' THEN
			NULL; -- a replayed (or over-bound) call changes nothing
		ELSIF NOT EXISTS (SELECT 1 FROM phone_numbers WHERE cust_space_id = c_space[i] AND number = c_number[i]) THEN
			verdict := 'notfound';
		ELSE
			SELECT max(sent_at) INTO v_sent FROM verify_codes
			WHERE cust_space_id = c_space[i] AND number = c_number[i]
				AND sent_at > c_not_after[i] AND status <> 'failed';
			IF v_sent IS NOT NULL THEN
				verdict := 'conflict'; newest := v_sent;
			ELSE
				INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at,
					expires_at, request_id, access_key_id, status)
				VALUES (c_space[i], c_number[i], c_code[i], c_method[i], c_locale[i], c_sent[i],
					c_expires[i], c_request[i], c_access_key[i], c_status[i]);
				verdict := 'ok';
			END IF;
		END IF;
		RETURN NEXT;
	END LOOP;

	FOR i IN 1 .. coalesce(cardinality(s_number), 0) LOOP
		kind := 's'; idx := i; newest := 0;
		UPDATE verify_codes SET status = s_status[i]
		WHERE seq = (
			SELECT seq FROM verify_codes
			WHERE cust_space_id = s_space[i] AND number = s_number[i] AND sent_at = s_sent[i]
			ORDER BY seq DESC
			LIMIT 1);
		verdict := CASE WHEN FOUND THEN 'ok' ELSE 'notfound' END;
		RETURN NEXT;
	END LOOP;

	IF coalesce(cardinality(m_phone), 0) > 0 THEN
		INSERT INTO messages (phone_number, method, locale, code, text, created_at)
		SELECT p, me, l, co, t, cr
		FROM unnest(m_phone, m_method, m_locale, m_code, m_text, m_created)
			WITH ORDINALITY AS u(p, me, l, co, t, cr, ord)
		ORDER BY ord;
		-- One trim for the whole group, by whichever group holds the outbox's lock; a group
		-- that finds it taken leaves its surplus to the next trim.
		IF p_keep > 0 AND pg_try_advisory_xact_lock(p_outbox_lock) THEN
			DELETE FROM messages
			WHERE id <= (SELECT id FROM messages ORDER BY id DESC OFFSET p_keep LIMIT 1);
		END IF;
		FOR i IN 1 .. cardinality(m_phone) LOOP
			kind := 'm'; idx := i; verdict := 'ok'; newest := 0;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;

-- Group commit (see group.go): a code's message rides in the code's own write. A code whose
-- delivery is a message recorded in the outbox (the simulator's, Store.SaveCodeMessage)
-- carries that message: m_of names, for each message, the code (its index in the c_
-- arrays, from 1) it belongs to, or 0 for a message of its own. A code's message is inserted
-- only if the code was ('ok'), and has no verdict of its own: the code's is its. Messages of
-- their own come first in the m_ arrays, so that their verdicts' idx count them alone.
--
-- The outbox's trim starts where the replica's last one ended: p_trim_from, every id at or
-- below which a trim deleted already; a group that trims returns a row of kind 't' whose
-- newest is its new bound. With p_sweep, a trim deletes below p_trim_from too.

DROP FUNCTION write_group(text[], text[], bigint[], bigint[], integer,
	text[], text[], text[], text[], text[], bigint[], bigint[], text[], text[], text[], bigint[],
	text[], text[], bigint[], bigint[], text[], text[], bigint[], text[],
	text[], text[], text[], text[], text[], bigint[], integer, bigint);

CREATE FUNCTION write_group(
	n_key text[], n_nonce text[], n_expires bigint[], n_now bigint[], p_max integer,
	c_space text[], c_number text[], c_code text[], c_method text[], c_locale text[],
	c_sent bigint[], c_expires bigint[], c_request text[], c_access_key text[],
	c_status text[], c_not_after bigint[],
	c_nonce_key text[], c_nonce text[], c_nonce_expires bigint[], c_nonce_now bigint[],
	s_space text[], s_number text[], s_sent bigint[], s_status text[],
	m_phone text[], m_method text[], m_locale text[], m_code text[], m_text text[],
	m_created bigint[], m_of integer[], p_keep integer, p_outbox_lock bigint,
	p_trim_from bigint, p_sweep boolean)
RETURNS TABLE (kind text, idx integer, verdict text, newest bigint)
LANGUAGE plpgsql AS $$
DECLARE
	i      integer;
	j      integer;
	v_lock bigint;
	v_key  text;
	v_sent bigint;
	v_trim bigint;
	v_held integer;
	v_last bigint;
	v_r    record;
	-- The group's AccessKeys, their rows in nonces and latest expiry as the group goes.
	k_id   text[] := '{}';
	k_held integer[] := '{}';
	k_last bigint[] := '{}';
	-- Every nonce of the group and its verdict; v_n of them are the group's own.
	q_key     text[];
	q_nonce   text[];
	q_expires bigint[];
	q_now     bigint[];
	q_verdict text[] := '{}';
	v_n       integer;
	-- Each code's verdict, for the message it carries.
	c_verdict text[] := '{}';
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
			SELECT held, latest_expiry INTO v_held, v_last FROM nonce_keys
			WHERE access_key_id = v_key FOR UPDATE;
			EXIT WHEN FOUND;
			INSERT INTO nonce_keys (access_key_id, held, latest_expiry) VALUES (v_key, 0, 0)
			ON CONFLICT (access_key_id) DO NOTHING;
		END LOOP;
		k_id := k_id || v_key;
		k_held := k_held || v_held;
		k_last := k_last || v_last;
	END LOOP;

	-- Every nonce of the group, its own and then those its codes carry ('' for none), each
	-- recorded under its key's count, which is written back once per key below.
	q_key := coalesce(n_key, '{}') || coalesce(c_nonce_key, '{}');
	q_nonce := coalesce(n_nonce, '{}') || coalesce(c_nonce, '{}');
	q_expires := coalesce(n_expires, '{}') || coalesce(c_nonce_expires, '{}');
	q_now := coalesce(n_now, '{}') || coalesce(c_nonce_now, '{}');
	FOR i IN 1 .. cardinality(q_key) LOOP
		CONTINUE WHEN q_key[i] = '';
		j := array_position(k_id, q_key[i]);
		v_r := nonce_record(q_key[i], q_nonce[i], q_expires[i], q_now[i], p_max, k_held[j]);
		verdict := v_r.verdict;
		v_held := v_r.held;
		q_verdict[i] := verdict;
		k_held[j] := v_held;
		IF verdict = 'ok' THEN
			k_last[j] := greatest(k_last[j], q_expires[i]);
		END IF;
	END LOOP;
	v_n := coalesce(cardinality(n_key), 0);

	FOR i IN 1 .. v_n LOOP
		kind := 'n'; idx := i; verdict := q_verdict[i]; newest := 0;
		RETURN NEXT;
	END LOOP;

	FOR i IN 1 .. coalesce(cardinality(c_number), 0) LOOP
		kind := 'c'; idx := i; newest := 0;
		verdict := coalesce(q_verdict[v_n + i], 'ok'); -- its nonce's, if it carries one
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
		c_verdict[i] := verdict;
		RETURN NEXT;
	END LOOP;

	-- Each key's row, once for the group.
	FOR j IN 1 .. cardinality(k_id) LOOP
		UPDATE nonce_keys SET held = k_held[j], latest_expiry = k_last[j]
		WHERE access_key_id = k_id[j];
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
		FROM unnest(m_phone, m_method, m_locale, m_code, m_text, m_created, m_of)
			WITH ORDINALITY AS u(p, me, l, co, t, cr, mc, ord)
		WHERE mc = 0 OR c_verdict[mc] = 'ok'
		ORDER BY ord;
		-- One trim for the whole group, by whichever group holds the outbox's lock; a group
		-- that finds it taken leaves its surplus to the next trim. Ids only grow, so the
		-- newest p_keep are the ids above max(id) - p_keep: the trim deletes the ids between
		-- where the replica's last trim ended and that. (Found by walking p_keep entries
		-- down from the newest, the bound cost a heap visit per entry, about a third of
		-- PostgreSQL's CPU per call; a range open below would walk again the index entries
		-- of every row trimmed since the last VACUUM; a row that keeps the bound would be
		-- updated by every group, and read through all its dead versions.)
		-- A message whose group commits after p_keep newer ones were numbered lands below
		-- the bound: a sweep (p_sweep, every 1024th trim of a replica) deletes below it.
		IF p_keep > 0 AND pg_try_advisory_xact_lock(p_outbox_lock) THEN
			SELECT max(id) - p_keep INTO v_trim FROM messages;
			IF v_trim > p_trim_from THEN
				DELETE FROM messages WHERE id > p_trim_from AND id <= v_trim;
				IF p_sweep THEN
					-- Planned for its value (EXECUTE): a plan for any bound would read the
					-- whole table.
					EXECUTE format('DELETE FROM messages WHERE id <= %s', p_trim_from);
				END IF;
				kind := 't'; idx := 0; verdict := 'ok'; newest := v_trim;
				RETURN NEXT;
			END IF;
		END IF;
		FOR i IN 1 .. cardinality(m_phone) LOOP
			CONTINUE WHEN m_of[i] <> 0; -- a code's message: the code's verdict is its
			kind := 'm'; idx := i; verdict := 'ok'; newest := 0;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;

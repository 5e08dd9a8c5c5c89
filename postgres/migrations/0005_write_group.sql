-- Group commit (see group.go): the durable writes of many concurrent calls of one replica in
-- one statement, so one transaction, one round trip and one WAL flush for all of them.
--
-- nonce_use (migration 0002), for ChangeNumber's nonce, now on nonce_record: the same verdicts,
-- without its prune that read every row of a busy key.
CREATE OR REPLACE FUNCTION nonce_use(p_key text, p_nonce text, p_expires bigint, p_now bigint, p_max integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_held    integer;
	v_verdict text;
BEGIN
	LOOP
		SELECT held INTO v_held FROM nonce_keys WHERE access_key_id = p_key FOR UPDATE;
		EXIT WHEN FOUND;
		INSERT INTO nonce_keys (access_key_id, held, latest_expiry) VALUES (p_key, 0, 0)
		ON CONFLICT (access_key_id) DO NOTHING;
	END LOOP;
	SELECT r.verdict, r.held INTO v_verdict, v_held
	FROM nonce_record(p_key, p_nonce, p_expires, p_now, p_max, v_held) AS r;
	UPDATE nonce_keys SET held = v_held,
		latest_expiry = CASE WHEN v_verdict = 'ok' THEN greatest(latest_expiry, p_expires) ELSE latest_expiry END
	WHERE access_key_id = p_key;
	RETURN v_verdict;
END
$$;

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
-- Writes of one kind are made one by one, in the order of their arrays, each by the same
-- statements a single write would run (a set-wise version, a few statements per group, was
-- 20% faster on a fresh table but let the planner look nonces up through the expiry index
-- once its plans were cached, reading all of a busy AccessKey's nonces for each). The caller
-- puts at most one write of each thing in a group (see group.go's split).
--
-- Locks are taken first, all of them, in one order: the advisory locks of the codes' numbers
-- by key, then the nonce_keys rows of the nonces' AccessKeys by id. Every other transaction
-- that locks several of these takes them in the same order (ChangeNumber holds one number's
-- lock), so groups of any replicas never wait for each other in a cycle.
-- nonce_record is nonce_use (migration 0002) for a caller that holds the key's nonce_keys row
-- already and keeps its count itself: it records p_nonce given p_held, the key's rows, and
-- returns its verdict and the key's rows after it, without writing nonce_keys. write_group
-- writes each key's row once per group instead of once per nonce: a busy AccessKey's row then
-- does not pile up a version per nonce.
CREATE FUNCTION nonce_record(p_key text, p_nonce text, p_expires bigint, p_now bigint,
	p_max integer, p_held integer, OUT verdict text, OUT held integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_expires bigint;
	v_gone    integer;
	v_old     text;
BEGIN
	held := p_held;
	SELECT expires_at INTO v_expires FROM nonces WHERE access_key_id = p_key AND nonce = p_nonce;
	IF FOUND AND v_expires > p_now THEN
		verdict := 'used';
		RETURN;
	END IF;
	IF FOUND THEN
		UPDATE nonces SET expires_at = p_expires WHERE access_key_id = p_key AND nonce = p_nonce;
		verdict := 'ok';
		RETURN;
	END IF;
	-- Two expired nonces of the key leave with each new one, found first and deleted one by
	-- one by primary key: as one "DELETE … IN (…)", the plan PostgreSQL caches for it (made
	-- while the table was small) reads every row of the key, or of the table, to find them.
	FOR v_old IN
		SELECT nonce FROM nonces WHERE access_key_id = p_key AND expires_at <= p_now LIMIT 2
	LOOP
		DELETE FROM nonces WHERE access_key_id = p_key AND nonce = v_old;
		held := held - 1;
	END LOOP;
	IF held >= p_max THEN
		DELETE FROM nonces WHERE access_key_id = p_key AND expires_at <= p_now;
		GET DIAGNOSTICS v_gone = ROW_COUNT;
		held := held - v_gone;
	END IF;
	IF held >= p_max THEN
		verdict := 'full';
		RETURN;
	END IF;
	INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (p_key, p_nonce, p_expires);
	held := held + 1;
	verdict := 'ok';
END
$$;

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
	j      integer;
	v_lock bigint;
	v_key  text;
	v_sent bigint;
	v_trim bigint;
	v_held integer;
	v_last bigint;
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
		SELECT r.verdict, r.held INTO verdict, v_held
		FROM nonce_record(q_key[i], q_nonce[i], q_expires[i], q_now[i], p_max, k_held[j]) AS r;
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
		FROM unnest(m_phone, m_method, m_locale, m_code, m_text, m_created)
			WITH ORDINALITY AS u(p, me, l, co, t, cr, ord)
		ORDER BY ord;
		-- One trim for the whole group, by whichever group holds the outbox's lock; a group
		-- that finds it taken leaves its surplus to the next trim.
		IF p_keep > 0 AND pg_try_advisory_xact_lock(p_outbox_lock) THEN
			-- The bound first; the DELETE is planned for its value (EXECUTE), so that it walks
			-- the primary key over the few ids below it rather than the whole table, which a
			-- plan for any bound would read.
			SELECT id INTO v_trim FROM messages ORDER BY id DESC OFFSET p_keep LIMIT 1;
			IF v_trim IS NOT NULL THEN
				EXECUTE format('DELETE FROM messages WHERE id <= %s', v_trim);
			END IF;
		END IF;
		FOR i IN 1 .. cardinality(m_phone) LOOP
			kind := 'm'; idx := i; verdict := 'ok'; newest := 0;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;

-- Group commit (see group.go): the durable writes of many concurrent calls of one replica in
-- one statement, so one transaction, one round trip and one WAL flush for all of them.
--
-- write_group takes one array per field of each kind of write, all of one kind the same
-- length, and returns one row per write: its kind ('n' nonce, 'c' code, 's' code status,
-- 'm' message), its index in its kind's arrays (from 1), and its verdict:
--   nonce:   'ok', 'used' (recorded and live) or 'full' (the AccessKey holds p_max live ones);
--   code:    'ok', 'notfound' (no such number), or 'conflict' with newest, the sent_at of the
--            newest code of the number that did not fail and was sent after c_not_after;
--            when the code carries its call's nonce (c_nonce_key not ''), that nonce is
--            recorded with it, and 'used' or 'full' refuse the code;
--   status:  'ok' or 'notfound';
--   message: 'ok'.
-- The caller puts no two writes of one thing in a group (one nonce of an AccessKey, one code
-- of a number in a space, one status of a code): each kind is then made set-wise, a few
-- statements for the whole group rather than a few per write.
--
-- Locks are taken first, all of them, in one order: the advisory locks of the codes' numbers
-- by key, then the nonce_keys rows of the AccessKeys by id. Every other transaction that locks
-- several of these takes them in the same order (ChangeNumber: its number, then its call's
-- AccessKey), so groups of any replicas never wait for each other in a cycle.
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
LANGUAGE plpgsql
-- A group is tens or hundreds of writes, each an index lookup: nested loops over the indexes,
-- never a hash or merge join that reads a whole table (the planner guesses 100 rows for an
-- unnest and may prefer one).
SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
DECLARE
	v_lock    bigint;
	v_key     text;
	-- Every nonce of the group, the codes' after the group's own: q_kind 'n' or 'c', q_idx its
	-- index in its kind's arrays; q_verdict, once decided.
	q_kind    text[];
	q_idx     integer[];
	q_key     text[];
	q_nonce   text[];
	q_expires bigint[];
	q_now     bigint[];
	q_verdict text[];
	-- The codes' verdicts and conflicts, by index.
	c_verdict text[];
	c_newest  bigint[];
	s_found   integer[];
	v_trim    bigint;
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

	-- Nonces.
	SELECT array_agg(k ORDER BY o), array_agg(i ORDER BY o), array_agg(ky ORDER BY o),
		array_agg(nc ORDER BY o), array_agg(e ORDER BY o), array_agg(t ORDER BY o)
	INTO q_kind, q_idx, q_key, q_nonce, q_expires, q_now
	FROM (
		SELECT 'n' AS k, i::integer, ky, nc, e, t, i AS o
		FROM unnest(n_key, n_nonce, n_expires, n_now) WITH ORDINALITY AS u(ky, nc, e, t, i)
		UNION ALL
		SELECT 'c', i::integer, ky, nc, e, t, 1000000 + i
		FROM unnest(c_nonce_key, c_nonce, c_nonce_expires, c_nonce_now) WITH ORDINALITY AS u(ky, nc, e, t, i)
		WHERE ky <> '') AS all_nonces;

	IF q_key IS NOT NULL THEN
		-- Two expired nonces of a key leave with each of its new ones, so that its rows follow
		-- its live nonces instead of piling up until the bound.
		WITH per_key AS (
			SELECT ky, count(*) AS n, min(t) AS t FROM unnest(q_key, q_now) AS u(ky, t) GROUP BY ky),
		doomed AS (
			SELECT d.ctid FROM per_key, LATERAL (
				SELECT ctid FROM nonces
				WHERE access_key_id = per_key.ky AND expires_at <= per_key.t
				LIMIT 2 * per_key.n) AS d),
		gone AS (
			DELETE FROM nonces WHERE ctid IN (SELECT ctid FROM doomed) RETURNING access_key_id)
		UPDATE nonce_keys SET held = held - g.n
		FROM (SELECT access_key_id AS ky, count(*) AS n FROM gone GROUP BY 1) AS g
		WHERE nonce_keys.access_key_id = g.ky;

		-- A key that would go over the bound: only live nonces count, so all its expired
		-- ones leave first.
		WITH per_key AS (
			SELECT ky, count(*) AS n, min(t) AS t FROM unnest(q_key, q_now) AS u(ky, t) GROUP BY ky),
		tight AS (
			SELECT per_key.* FROM per_key JOIN nonce_keys k ON k.access_key_id = per_key.ky
			WHERE k.held + per_key.n > p_max),
		gone AS (
			DELETE FROM nonces USING tight
			WHERE nonces.access_key_id = tight.ky AND nonces.expires_at <= tight.t
			RETURNING nonces.access_key_id)
		UPDATE nonce_keys SET held = held - g.n
		FROM (SELECT access_key_id AS ky, count(*) AS n FROM gone GROUP BY 1) AS g
		WHERE nonce_keys.access_key_id = g.ky;

		-- Each nonce: 'used' when recorded and live; an expired record is used again in its
		-- place ('reuse', no room needed); a new one needs room under the bound, in order.
		SELECT array_agg(v ORDER BY o) INTO q_verdict FROM (
			SELECT o, CASE
				WHEN x.expires_at IS NOT NULL AND x.expires_at > u.t THEN 'used'
				WHEN x.expires_at IS NOT NULL THEN 'reuse'
				WHEN row_number() OVER (PARTITION BY u.ky, x.expires_at IS NULL ORDER BY o)
					<= p_max - k.held THEN 'new'
				ELSE 'full' END AS v
			FROM unnest(q_key, q_nonce, q_now) WITH ORDINALITY AS u(ky, nc, t, o)
			JOIN nonce_keys k ON k.access_key_id = u.ky
			LEFT JOIN nonces x ON x.access_key_id = u.ky AND x.nonce = u.nc) AS d;

		INSERT INTO nonces (access_key_id, nonce, expires_at)
		SELECT ky, nc, e FROM unnest(q_key, q_nonce, q_expires, q_verdict) AS u(ky, nc, e, v)
		WHERE v IN ('new', 'reuse')
		ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at;

		UPDATE nonce_keys SET held = held + g.n, latest_expiry = greatest(latest_expiry, g.e)
		FROM (
			SELECT ky, count(*) FILTER (WHERE v = 'new') AS n, max(e) AS e
			FROM unnest(q_key, q_expires, q_verdict) AS u(ky, e, v)
			WHERE v IN ('new', 'reuse') GROUP BY ky) AS g
		WHERE nonce_keys.access_key_id = g.ky;

		RETURN QUERY SELECT 'n'::text, i, CASE WHEN v IN ('new', 'reuse') THEN 'ok' ELSE v END, 0::bigint
		FROM unnest(q_kind, q_idx, q_verdict) AS u(k, i, v) WHERE k = 'n';
	END IF;

	-- Codes: refused by their nonce, or not found, or in conflict, or recorded.
	IF c_number IS NOT NULL THEN
		SELECT array_agg(v ORDER BY o), array_agg(nw ORDER BY o) INTO c_verdict, c_newest FROM (
			SELECT u.o, CASE
				WHEN qv.v IS NOT NULL AND qv.v NOT IN ('new', 'reuse') THEN qv.v
				WHEN p.number IS NULL THEN 'notfound'
				WHEN m.newest IS NOT NULL THEN 'conflict'
				ELSE 'ok' END AS v,
				coalesce(m.newest, 0) AS nw
			FROM unnest(c_space, c_number, c_not_after) WITH ORDINALITY AS u(sp, nb, na, o)
			LEFT JOIN (
				SELECT i, v FROM unnest(q_kind, q_idx, q_verdict) AS q(k, i, v) WHERE k = 'c'
			) AS qv ON qv.i = u.o
			LEFT JOIN phone_numbers p ON p.cust_space_id = u.sp AND p.number = u.nb
			LEFT JOIN LATERAL (
				SELECT max(sent_at) AS newest FROM verify_codes
				WHERE cust_space_id = u.sp AND number = u.nb AND sent_at > u.na AND status <> 'failed'
			) AS m ON true) AS d;

		INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at,
			expires_at, request_id, access_key_id, status)
		SELECT sp, nb, cd, me, lo, se, ex, rq, ak, st
		FROM unnest(c_space, c_number, c_code, c_method, c_locale, c_sent, c_expires, c_request,
			c_access_key, c_status, c_verdict) WITH ORDINALITY
			AS u(sp, nb, cd, me, lo, se, ex, rq, ak, st, v, o)
		WHERE v = 'ok'
		ORDER BY o;

		RETURN QUERY SELECT 'c'::text, o::integer, v, nw
		FROM unnest(c_verdict, c_newest) WITH ORDINALITY AS u(v, nw, o);
	END IF;

	-- Statuses: each sets the newest code of its number sent at that time.
	IF s_number IS NOT NULL THEN
		WITH u AS (
			SELECT * FROM unnest(s_space, s_number, s_sent, s_status) WITH ORDINALITY
				AS u(sp, nb, se, st, o)),
		target AS (
			SELECT DISTINCT ON (u.o) u.o, v.seq, u.st FROM u
			JOIN verify_codes v ON v.cust_space_id = u.sp AND v.number = u.nb AND v.sent_at = u.se
			ORDER BY u.o, v.seq DESC),
		done AS (
			UPDATE verify_codes SET status = target.st FROM target
			WHERE verify_codes.seq = target.seq RETURNING target.o)
		SELECT array_agg(o::integer) INTO s_found FROM done;

		RETURN QUERY SELECT 's'::text, o::integer,
			CASE WHEN o::integer = ANY(coalesce(s_found, '{}')) THEN 'ok' ELSE 'notfound' END, 0::bigint
		FROM generate_series(1, cardinality(s_number)) AS o;
	END IF;

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
		RETURN QUERY SELECT 'm'::text, o::integer, 'ok'::text, 0::bigint
		FROM generate_series(1, cardinality(m_phone)) AS o;
	END IF;
END
$$;

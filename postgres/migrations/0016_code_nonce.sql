-- A code's nonce is recorded in the code's own row.
--
-- With Redis, Redis checks a call's nonce first, and the store records it with the call's
-- first change (camsd.Call.Nonce), so that a replay after Redis lost its data changes nothing.
-- Until now write_group recorded a code's nonce in nonces, as Use does: its AccessKey's
-- nonce_keys row made and locked, the nonce looked up, two expired nonces of the key found and
-- deleted, the nonce inserted (a row and two index entries), the key's row updated. camsd bench
-- on PostgreSQL + Redis spent about 40% of PostgreSQL's CPU per call on it (measured by
-- leaving the nonce out).
--
-- Now a code's nonce is two columns of its row in verify_codes (the nonce and its AccessKey),
-- unique: one index entry, in the row the code inserts anyway. A nonce a code recorded is
-- refused for as long as the code is kept, not only while it lives: a SignatureNonce must
-- differ from request to request, and a request replayed after its nonce expired is refused by
-- its timestamp anyway. write_group checks a code's nonce before the code (used if a code
-- recorded it, or if it lives in nonces, recorded by Use while Redis was away); Use's nonces
-- (kind 'n') and ChangeNumber's are used if a code recorded them. The nonce of a code that is
-- refused (no such number, the resend interval) still goes to nonces, as before. Nonces
-- recorded with codes do not count toward the bound on a key's live nonces
-- (Options.MaxNonces): Redis, which admitted them, holds them to it.
--
-- Every nonce of a group is now locked (a transaction advisory lock on its key's and its
-- hashes) after the numbers and before the AccessKeys' nonce_keys rows, as ChangeNumber locks
-- its call's: a code and a Use that record one nonce at once (a request sent to two replicas,
-- one of which finds Redis away) no longer meet on the key's row. The codes are made after
-- those locks, and the nonce_keys rows locked after the codes; so the global order of locks is
-- numbers, nonces, AccessKeys. The rest is 0015's.
--
-- The index is built by reading verify_codes once, holding off its writes meanwhile (the new
-- columns need no rewrite of the table).
ALTER TABLE verify_codes ADD COLUMN nonce_key text, ADD COLUMN nonce text; -- the nonce's AccessKey
CREATE UNIQUE INDEX verify_codes_nonce ON verify_codes (nonce_key, nonce) WHERE nonce IS NOT NULL;

CREATE OR REPLACE FUNCTION write_group(
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
LANGUAGE plpgsql
-- Its statements' plans are made once per connection, and read tables only through their
-- indexes (or row addresses). Planned again for each group's arrays (PostgreSQL's choice,
-- its estimate of a generic plan being no cheaper than a custom one), the set statements cost
-- more to plan than to run; and a plan made while a table was small (a new database, or
-- before autovacuum analyzed it) joined a group's nonces to all of nonces by a hash of a
-- sequential scan, and updated nonce_keys by one, each group reading every row.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
	i      integer;
	j      integer;
	v_trim bigint;
	v_top  bigint; -- the group's newest message
	v_r    record;
	v_sent bigint;
	-- Nonces and codes are made by set statements, a few per group, in groups of at least
	-- this many of them; one by one, a few statements each, in smaller groups, which the
	-- set statements' fixed cost would make dearer (pgbench-like runs of write_group alone:
	-- about 420 µs of PostgreSQL CPU per group and 28 per write in sets, 300 and 45 one by
	-- one).
	set_from CONSTANT integer := 8;
	v_keys integer;
	v_nonces integer;
	v_slow boolean := true;
	v_ins  bigint;
	v_gone bigint;
	-- The group's AccessKeys (in key order), their rows' addresses, their rows in nonces and
	-- latest expiry as the group goes.
	k_id   text[];
	k_tid  tid[];
	k_held integer[];
	k_last bigint[];
	-- Every nonce of the group, its own and then those its codes carry ('' for none), its
	-- state before the group ('new', 'live', 'expired') and its verdict; v_n are its own.
	q_key     text[];
	q_nonce   text[];
	q_expires bigint[];
	q_now     bigint[];
	q_state   text[];
	q_verdict text[] := '{}';
	v_n       integer;
	-- Each code's verdict, and for a conflict the sent_at of the code it lost to.
	c_verdict text[] := '{}';
	c_newest  bigint[] := '{}';
	-- Each code's nonce: 'used' when a code recorded it or it lives in nonces, else NULL.
	c_used    text[];
	-- The nonces of codes refused (no number, the resend interval), which go to nonces.
	r_key     text[];
	r_nonce   text[];
	r_expires bigint[];
	r_now     bigint[];
BEGIN
	-- In hash order, as before: the sorted subquery is scanned in its order.
	PERFORM pg_advisory_xact_lock(l.h)
	FROM (SELECT DISTINCT hashtextextended(x, 0) AS h FROM unnest(c_number) AS x ORDER BY h) AS l;
	-- Then the nonces', in hash order, in a lock space of their own (two keys): a code records
	-- its nonce in its own row and Use in nonces, so two calls that record one nonce at once,
	-- one each way, are decided one after the other here, the second seeing the first.
	IF cardinality(array_remove(coalesce(n_key, '{}') || coalesce(c_nonce_key, '{}'), '')) > 0 THEN
		PERFORM pg_advisory_xact_lock(l.a, l.b)
		FROM (SELECT DISTINCT hashtext(u.k) AS a, hashtext(u.n) AS b
			FROM unnest(coalesce(n_key, '{}') || coalesce(c_nonce_key, '{}'),
				coalesce(n_nonce, '{}') || coalesce(c_nonce, '{}')) AS u(k, n)
			WHERE u.k <> '' ORDER BY 1, 2) AS l;
	END IF;

	-- A code's nonce (Redis admitted it: camsd.Call.Nonce) is recorded in the code's row, under
	-- a unique index, unless a code recorded it before or it lives in nonces (recorded by Use
	-- while Redis was away); the nonce of a code that is refused goes to nonces below.
	IF cardinality(array_remove(c_nonce_key, '')) > 0 THEN
		SELECT array_agg(CASE WHEN u.k <> '' AND (
				EXISTS (SELECT 1 FROM verify_codes AS v
					WHERE v.nonce_key = u.k AND v.nonce = u.n AND v.nonce IS NOT NULL)
				OR EXISTS (SELECT 1 FROM nonces AS o
					WHERE o.access_key_id = u.k AND o.nonce = u.n AND o.expires_at > u.t))
			THEN 'used' END ORDER BY u.i)
		INTO c_used
		FROM unnest(c_nonce_key, c_nonce, c_nonce_now) WITH ORDINALITY AS u(k, n, t, i);
	END IF;

	IF coalesce(cardinality(c_number), 0) >= set_from THEN
		SELECT array_agg(t.v ORDER BY t.i), array_agg(CASE WHEN t.v = 'conflict' THEN t.m ELSE 0 END ORDER BY t.i)
		INTO c_verdict, c_newest
		FROM (
			SELECT u.i, s.m,
				CASE
					WHEN c_used[u.i] IS NOT NULL THEN c_used[u.i]
					WHEN NOT EXISTS (SELECT 1 FROM phone_numbers
						WHERE cust_space_id = u.sp AND number = u.num) THEN 'notfound'
					WHEN s.m IS NOT NULL THEN 'conflict'
					ELSE 'ok'
				END AS v
			FROM unnest(c_space, c_number, c_not_after) WITH ORDINALITY AS u(sp, num, na, i)
			CROSS JOIN LATERAL (SELECT max(sent_at) AS m FROM verify_codes
				WHERE cust_space_id = u.sp AND number = u.num AND sent_at > u.na
					AND status <> 'failed') AS s) AS t;
		-- A nonce another group is recording at this moment (another request that reuses it,
		-- for another number) fails the group on the unique index, and its writes are made
		-- again one by one.
		INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at,
			expires_at, request_id, access_key_id, status, nonce_key, nonce)
		SELECT u.sp, u.num, u.co, u.me, u.lo, u.se, u.ex, u.rq, u.ak, u.st, nullif(u.nk, ''), nullif(u.nn, '')
		FROM unnest(c_space, c_number, c_code, c_method, c_locale, c_sent, c_expires,
			c_request, c_access_key, c_status, c_nonce_key, c_nonce) WITH ORDINALITY
			AS u(sp, num, co, me, lo, se, ex, rq, ak, st, nk, nn, i)
		WHERE c_verdict[u.i] = 'ok'
		ORDER BY u.i;
	ELSE
		FOR i IN 1 .. coalesce(cardinality(c_number), 0) LOOP
			c_newest[i] := 0;
			c_verdict[i] := coalesce(c_used[i], 'ok');
			CONTINUE WHEN c_verdict[i] <> 'ok'; -- a replayed call changes nothing
			-- Inserted if its number exists and no code that did not fail was sent after
			-- c_not_after (the resend compare), under the number's lock.
			INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at,
				expires_at, request_id, access_key_id, status, nonce_key, nonce)
			SELECT c_space[i], c_number[i], c_code[i], c_method[i], c_locale[i], c_sent[i],
				c_expires[i], c_request[i], c_access_key[i], c_status[i], nullif(c_nonce_key[i], ''), nullif(c_nonce[i], '')
			WHERE EXISTS (SELECT 1 FROM phone_numbers WHERE cust_space_id = c_space[i] AND number = c_number[i])
				AND NOT EXISTS (SELECT 1 FROM verify_codes
					WHERE cust_space_id = c_space[i] AND number = c_number[i]
						AND sent_at > c_not_after[i] AND status <> 'failed')
			ON CONFLICT (nonce_key, nonce) WHERE nonce IS NOT NULL DO NOTHING;
			CONTINUE WHEN FOUND;
			IF NOT EXISTS (SELECT 1 FROM phone_numbers WHERE cust_space_id = c_space[i] AND number = c_number[i]) THEN
				c_verdict[i] := 'notfound';
				CONTINUE;
			END IF;
			SELECT max(sent_at) INTO v_sent FROM verify_codes
			WHERE cust_space_id = c_space[i] AND number = c_number[i]
				AND sent_at > c_not_after[i] AND status <> 'failed';
			IF v_sent IS NULL THEN
				-- Neither: another group recorded its nonce since the check above.
				c_verdict[i] := 'used';
				CONTINUE;
			END IF;
			c_verdict[i] := 'conflict'; c_newest[i] := v_sent;
		END LOOP;
	END IF;
	FOR i IN 1 .. coalesce(cardinality(c_number), 0) LOOP
		kind := 'c'; idx := i; verdict := c_verdict[i]; newest := c_newest[i];
		RETURN NEXT;
		IF c_nonce_key[i] <> '' AND c_verdict[i] IN ('notfound', 'conflict') THEN
			r_key := r_key || c_nonce_key[i];
			r_nonce := r_nonce || c_nonce[i];
			r_expires := r_expires || c_nonce_expires[i];
			r_now := r_now || c_nonce_now[i];
		END IF;
	END LOOP;

	q_key := coalesce(n_key, '{}') || coalesce(r_key, '{}');
	q_nonce := coalesce(n_nonce, '{}') || coalesce(r_nonce, '{}');
	q_expires := coalesce(n_expires, '{}') || coalesce(r_expires, '{}');
	q_now := coalesce(n_now, '{}') || coalesce(r_now, '{}');
	v_n := coalesce(cardinality(n_key), 0);

	v_nonces := cardinality(array_remove(q_key, ''));
	v_keys := 0;
	IF v_nonces > 0 THEN
		-- Made where missing, and locked, in key order, in one statement: the update that
		-- changes nothing locks the row and returns it as it is.
		WITH k AS (
			INSERT INTO nonce_keys (access_key_id, held, latest_expiry)
			SELECT DISTINCT x, 0, 0 FROM unnest(q_key) AS x WHERE x <> '' ORDER BY 1
			ON CONFLICT (access_key_id) DO UPDATE SET held = nonce_keys.held
			RETURNING access_key_id, ctid, held, latest_expiry)
		SELECT array_agg(k.access_key_id), array_agg(k.ctid), array_agg(k.held), array_agg(k.latest_expiry)
		INTO k_id, k_tid, k_held, k_last
		FROM k;
		v_keys := cardinality(k_id);
	END IF;

	IF v_nonces >= set_from THEN
		SELECT array_agg(CASE WHEN q.k = '' THEN NULL
				WHEN EXISTS (SELECT 1 FROM verify_codes AS v
					WHERE v.nonce_key = q.k AND v.nonce = q.n AND v.nonce IS NOT NULL) THEN 'live'
				WHEN o.e IS NULL THEN 'new'
				WHEN o.e > q.t THEN 'live' ELSE 'expired' END ORDER BY q.i)
		INTO q_state
		FROM unnest(q_key, q_nonce, q_now) WITH ORDINALITY AS q(k, n, t, i)
		LEFT JOIN LATERAL (SELECT expires_at AS e FROM nonces
			WHERE access_key_id = q.k AND nonce = q.n LIMIT 1) AS o ON true; -- LIMIT: never a join

		-- Fast unless some key's new nonces could meet its bound.
		SELECT coalesce(bool_or(k.h + c.n > p_max), false) INTO v_slow
		FROM unnest(k_id, k_held) AS k(id, h)
		JOIN (SELECT q.k, count(*) AS n FROM unnest(q_key, q_state) AS q(k, s)
			WHERE q.s = 'new' GROUP BY q.k) AS c ON c.k = k.id;
	END IF;

	IF v_keys = 0 THEN
		NULL;
	ELSIF v_slow THEN
		FOR i IN 1 .. cardinality(q_key) LOOP
			CONTINUE WHEN q_key[i] = '';
			j := array_position(k_id, q_key[i]);
			IF k_held[j] >= p_max THEN
				IF EXISTS (SELECT 1 FROM verify_codes AS v
						WHERE v.nonce_key = q_key[i] AND v.nonce = q_nonce[i] AND v.nonce IS NOT NULL) THEN
					q_verdict[i] := 'used'; -- a code recorded it
					CONTINUE;
				END IF;
				-- At its bound: nonce_record sweeps the key's expired nonces, or refuses.
				v_r := nonce_record(q_key[i], q_nonce[i], q_expires[i], q_now[i], p_max, k_held[j]);
				q_verdict[i] := v_r.verdict;
				k_held[j] := v_r.held;
				IF v_r.verdict = 'ok' THEN
					k_last[j] := greatest(k_last[j], q_expires[i]);
				END IF;
				CONTINUE;
			END IF;
			-- Below it: the nonce goes in unless it is there or a code recorded it, and only a
			-- new one takes two expired nonces of its key along (found by (key, expiry),
			-- deleted by row address; never the nonce itself, which the insert's snapshot would
			-- not see anyway).
			WITH ins AS (
				INSERT INTO nonces (access_key_id, nonce, expires_at)
				SELECT q_key[i], q_nonce[i], q_expires[i]
				WHERE NOT EXISTS (SELECT 1 FROM verify_codes AS v
					WHERE v.nonce_key = q_key[i] AND v.nonce = q_nonce[i] AND v.nonce IS NOT NULL)
				ON CONFLICT (access_key_id, nonce) DO NOTHING
				RETURNING 1),
			gone AS (
				DELETE FROM nonces WHERE EXISTS (SELECT 1 FROM ins) AND ctid = ANY (ARRAY(
					SELECT ctid FROM nonces
					WHERE access_key_id = q_key[i] AND expires_at <= q_now[i] AND nonce <> q_nonce[i]
					LIMIT 2))
				RETURNING 1)
			SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM gone) INTO v_ins, v_gone;
			IF v_ins = 1 THEN
				q_verdict[i] := 'ok';
				k_held[j] := k_held[j] + 1 - v_gone;
				k_last[j] := greatest(k_last[j], q_expires[i]);
				CONTINUE;
			END IF;
			-- Recorded already: used while it lives, or if a code recorded it; an expired one
			-- lives again (rare: its request would be out of date).
			UPDATE nonces SET expires_at = q_expires[i]
			WHERE access_key_id = q_key[i] AND nonce = q_nonce[i] AND expires_at <= q_now[i]
				AND NOT EXISTS (SELECT 1 FROM verify_codes AS v
					WHERE v.nonce_key = q_key[i] AND v.nonce = q_nonce[i] AND v.nonce IS NOT NULL);
			IF FOUND THEN
				q_verdict[i] := 'ok';
				k_last[j] := greatest(k_last[j], q_expires[i]);
			ELSE
				q_verdict[i] := 'used';
			END IF;
		END LOOP;
	ELSE
		-- Two expired nonces of its key leave with each new one, so that the key's rows
		-- follow its live nonces instead of piling up until the bound; never one of the
		-- group's own, which it is about to record.
		WITH c AS (
			SELECT q.k, count(*) AS n, min(q.t) AS t
			FROM unnest(q_key, q_now, q_state) AS q(k, t, s) WHERE q.s = 'new' GROUP BY q.k),
		gone AS (
			DELETE FROM nonces WHERE ctid = ANY (ARRAY(
				SELECT x.ctid FROM c CROSS JOIN LATERAL (
					SELECT ctid FROM nonces
					WHERE access_key_id = c.k AND expires_at <= c.t AND NOT (nonce = ANY (q_nonce))
					LIMIT 2 * c.n) AS x))
			RETURNING access_key_id),
		counts AS (
			SELECT u.k, sum(u.n)::integer AS n FROM (
				SELECT c.k, c.n FROM c
				UNION ALL
				SELECT g.access_key_id, -count(*) FROM gone AS g GROUP BY g.access_key_id) AS u
			GROUP BY u.k),
		last AS (
			SELECT q.k, max(q.e) AS e FROM unnest(q_key, q_expires, q_state) AS q(k, e, s)
			WHERE q.s IN ('new', 'expired') GROUP BY q.k)
		SELECT array_agg(k.h + coalesce(counts.n, 0) ORDER BY k.o),
			array_agg(greatest(k.l, coalesce(last.e, k.l)) ORDER BY k.o)
		INTO k_held, k_last
		FROM unnest(k_id, k_held, k_last) WITH ORDINALITY AS k(id, h, l, o)
		LEFT JOIN counts ON counts.k = k.id
		LEFT JOIN last ON last.k = k.id;
		-- An expired nonce used again lives again (rare: its request would be out of date).
		FOR i IN 1 .. cardinality(q_key) LOOP
			CONTINUE WHEN q_state[i] IS DISTINCT FROM 'expired';
			UPDATE nonces SET expires_at = q_expires[i]
			WHERE access_key_id = q_key[i] AND nonce = q_nonce[i];
		END LOOP;
		INSERT INTO nonces (access_key_id, nonce, expires_at)
		SELECT q.k, q.n, q.e FROM unnest(q_key, q_nonce, q_expires, q_state) AS q(k, n, e, s)
		WHERE q.s = 'new';
		FOR i IN 1 .. cardinality(q_key) LOOP
			q_verdict[i] := CASE q_state[i] WHEN 'live' THEN 'used' WHEN 'new' THEN 'ok'
				WHEN 'expired' THEN 'ok' END;
		END LOOP;
	END IF;

	FOR i IN 1 .. v_n LOOP
		kind := 'n'; idx := i; verdict := q_verdict[i]; newest := 0;
		RETURN NEXT;
	END LOOP;
	-- Each key's row, once for the group, by its address.
	IF v_keys > 0 THEN
		UPDATE nonce_keys SET held = k_held[array_position(k_tid, ctid)],
			latest_expiry = k_last[array_position(k_tid, ctid)]
		WHERE ctid = ANY (k_tid);
	END IF;

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
		WITH ins AS (
			INSERT INTO messages (phone_number, method, locale, code, text, created_at)
			SELECT p, me, l, co, t, cr
			FROM unnest(m_phone, m_method, m_locale, m_code, m_text, m_created, m_of)
				WITH ORDINALITY AS u(p, me, l, co, t, cr, mc, ord)
			WHERE mc = 0 OR c_verdict[mc] = 'ok'
			ORDER BY ord
			RETURNING id)
		SELECT max(id) INTO v_top FROM ins;
		-- The outbox's trim, as in 0010, but up to keep below the group's own newest message
		-- rather than the table's: never more than 0010 trimmed, and max(id) of messages is a
		-- plan of its own, which one made while the table was small reads all of it to answer.
		IF p_keep > 0 AND v_top IS NOT NULL AND pg_try_advisory_xact_lock(p_outbox_lock) THEN
			v_trim := v_top - p_keep;
			IF v_trim > p_trim_from THEN
				DELETE FROM messages WHERE id > p_trim_from AND id <= v_trim;
				IF p_sweep THEN
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

-- Flow control shared by every replica (see limiter.go).
--
-- One row per key holds the times of the key's admissions that may still be in the rolling
-- second, oldest first: what ratelimit's window holds in memory. UNLOGGED: a decision writes no
-- WAL, so its commit waits for no disk flush. After a crash of PostgreSQL the table is empty,
-- which forgets at most the last second's admissions, as a restart of the in-process limiter
-- does; standbys do not have it either, so a failover forgets them too.
CREATE UNLOGGED TABLE limiter_windows (
	key        text          PRIMARY KEY,
	admissions timestamptz[] NOT NULL
);

-- limiter_allow decides one call for p_key at limit p_limit, at p_now (tests only) or else at
-- PostgreSQL's clock_timestamp(), in one statement (so one transaction). It returns whether the
-- call is admitted, the time it was decided at and, when refused, the admission whose leaving
-- the window would make room (RetryAfter = edge + 1s - decided_at).
CREATE FUNCTION limiter_allow(p_key text, p_limit integer, p_now timestamptz,
	OUT allowed boolean, OUT decided_at timestamptz, OUT edge timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
	v_in timestamptz[];
	v_lo integer := 1;
	v_hi integer;
BEGIN
	-- Lock the key's row, making it first if need be: decisions of a key are serial, on
	-- every replica.
	LOOP
		SELECT admissions INTO v_in FROM limiter_windows WHERE key = p_key FOR UPDATE;
		EXIT WHEN FOUND;
		INSERT INTO limiter_windows (key, admissions) VALUES (p_key, '{}')
		ON CONFLICT (key) DO NOTHING;
	END LOOP;

	-- The clock is read under the lock, so that a key's admissions are in the order of their
	-- times whichever replica made them. A clock that went back decides at the newest
	-- admission instead: deciding in the past could admit over the limit.
	decided_at := coalesce(p_now, clock_timestamp());
	v_hi := cardinality(v_in);
	IF v_hi > 0 AND v_in[v_hi] > decided_at THEN
		decided_at := v_in[v_hi];
	END IF;

	-- Skip what has left the window (decided_at - 1s, decided_at].
	WHILE v_lo <= v_hi AND v_in[v_lo] <= decided_at - interval '1 second' LOOP
		v_lo := v_lo + 1;
	END LOOP;

	allowed := v_hi - v_lo + 1 < p_limit;
	IF allowed THEN
		UPDATE limiter_windows SET admissions = v_in[v_lo:v_hi] || decided_at WHERE key = p_key;
	ELSE
		-- Room needs n-limit+1 admissions to leave, n those in the window; the last of them
		-- is the (n-limit+1)th oldest. n > limit only right after the limit was lowered.
		edge := v_in[v_hi - p_limit + 1];
	END IF;
END
$$;

-- limiter_sweep deletes up to p_limit keys with no admission in the second before p_now (or
-- clock_timestamp()), so that keys no longer called do not stay forever. SKIP LOCKED: a key
-- being decided is in use, and a sweep never waits.
CREATE FUNCTION limiter_sweep(p_now timestamptz, p_limit integer)
RETURNS integer LANGUAGE sql AS $$
	WITH gone AS (
		DELETE FROM limiter_windows WHERE key IN (
			SELECT key FROM limiter_windows
			WHERE cardinality(admissions) = 0
				OR admissions[cardinality(admissions)]
					<= coalesce(p_now, clock_timestamp()) - interval '1 second'
			LIMIT p_limit
			FOR UPDATE SKIP LOCKED)
		RETURNING 1)
	SELECT count(*)::integer FROM gone
$$;

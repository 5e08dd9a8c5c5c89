-- Flow-control decisions of many concurrent calls of one replica in one statement (see
-- limiter.go): one round trip for the group instead of one per call.
--
-- limiter_allow_group decides p_keys[i] at p_limits[i] for each i, with limiter_allow, and
-- returns one row per decision with its index. It decides in the order of the keys (then of
-- the indexes), so that groups of several replicas lock the keys' rows in one order and never
-- wait for each other in a cycle; decisions of one key keep their order. Each row stays locked
-- until the statement ends, so a key's decisions by other replicas wait for the group.
CREATE FUNCTION limiter_allow_group(p_keys text[], p_limits integer[], p_now timestamptz)
RETURNS TABLE (idx integer, allowed boolean, decided_at timestamptz, edge timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
	i integer;
BEGIN
	FOR i IN
		SELECT o::integer FROM unnest(p_keys) WITH ORDINALITY AS u(k, o) ORDER BY k, o
	LOOP
		idx := i;
		SELECT a.allowed, a.decided_at, a.edge INTO allowed, decided_at, edge
		FROM limiter_allow(p_keys[i], p_limits[i], p_now) AS a;
		RETURN NEXT;
	END LOOP;
END
$$;

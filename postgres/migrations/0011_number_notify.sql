-- Each replica caches phone numbers too (cache.go), for the number read of every code sent.
-- A change of a number's row tells every replica which number changed, so that each forgets
-- only that number's records (in every space: a number's changes touch all of them), not
-- every number it holds; TRUNCATE tells the table, and every number is forgotten. Statements
-- of the hot path never change phone_numbers (a code's foreign key only locks the row).
CREATE FUNCTION number_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM pg_notify(tenant_channel(TG_TABLE_SCHEMA), 'phone_numbers ' || OLD.number);
	END IF;
	IF TG_OP <> 'DELETE' THEN
		PERFORM pg_notify(tenant_channel(TG_TABLE_SCHEMA), 'phone_numbers ' || NEW.number);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER phone_numbers_notify AFTER INSERT OR UPDATE OR DELETE ON phone_numbers
	FOR EACH ROW EXECUTE FUNCTION number_notify();
CREATE TRIGGER phone_numbers_truncate_notify AFTER TRUNCATE ON phone_numbers
	FOR EACH STATEMENT EXECUTE FUNCTION tenant_notify();

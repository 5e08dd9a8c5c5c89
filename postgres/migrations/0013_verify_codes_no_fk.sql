-- verify_codes no longer references phone_numbers. Every code is inserted by write_group
-- after it found the number, under the number's advisory lock, and a number is never
-- deleted; the foreign key only repeated that check, at a price on every code: an after-row
-- trigger, another probe of phone_numbers and a lock on the number's row (a WAL record and a
-- dirtied page for every code sent).
ALTER TABLE verify_codes DROP CONSTRAINT verify_codes_cust_space_id_number_fkey;

-- The rest of a number's lifecycle (AddChatappPhoneNumber and after). Statuses stay text with
-- no CHECK, so the new ones (UNVERIFIED, VERIFIED, DISCONNECTED) need no change here.

-- The display name a number was added with; '' for numbers migrated or seeded without one.
ALTER TABLE phone_numbers ADD COLUMN verified_name TEXT NOT NULL DEFAULT '';

-- New numbers' ids are random now (camsd.NewNumberID): a server-wide sequence told each tenant
-- how many numbers the others had added. One process owns this file, so nothing still asks it.
DROP TABLE number_ids;

-- Numbers an account bought pre-validated: the seller gave the account the number's
-- verification code, which GetPreValidatePhoneId trades for id. A number is pre-validated for
-- one account at a time; ApplySeed keeps id once it is set.
CREATE TABLE prevalidated_numbers (
	number      TEXT NOT NULL PRIMARY KEY,
	uid         TEXT NOT NULL REFERENCES accounts (uid),
	verify_code TEXT NOT NULL,
	id          TEXT NOT NULL
);

CREATE INDEX prevalidated_numbers_uid ON prevalidated_numbers (uid, number);

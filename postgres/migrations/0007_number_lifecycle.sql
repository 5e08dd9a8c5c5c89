-- The rest of a number's lifecycle (AddChatappPhoneNumber and after). Statuses stay text with
-- no CHECK, so the new ones (UNVERIFIED, VERIFIED, DISCONNECTED) need no change here.

-- The display name a number was added with; '' for numbers migrated or seeded without one.
ALTER TABLE phone_numbers ADD COLUMN verified_name text NOT NULL DEFAULT '';

-- New numbers' ids are random now (camsd.NewNumberID): the number_ids sequence told each
-- tenant how many numbers the others had added. It stays, unused by this release, because
-- replicas of the release before may still be running on this schema during an upgrade, and
-- they take their ids from it.

-- Numbers an account bought pre-validated: the seller gave the account the number's
-- verification code, which GetPreValidatePhoneId trades for id. A number is pre-validated for
-- one account at a time; ApplySeed keeps id once it is set.
CREATE TABLE prevalidated_numbers (
	number      text NOT NULL PRIMARY KEY,
	uid         text NOT NULL REFERENCES accounts (uid),
	verify_code text NOT NULL,
	id          text NOT NULL
);

CREATE INDEX prevalidated_numbers_uid ON prevalidated_numbers (uid, number);

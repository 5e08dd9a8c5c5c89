-- The STS signing key is sealed at rest like the other secrets (issue 15), and a sealed value
-- is text: the key is kept as the lowercase hex of its bytes, or that sealed with the master
-- key (sealed:v1:...), which the first start with a key does. secure_delete zeroes the pages
-- that held the key in binary, so that no copy of it outlives the sealing.
PRAGMA secure_delete = ON;

CREATE TABLE sts_signing_key_text (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	key TEXT    NOT NULL
);
INSERT INTO sts_signing_key_text (id, key) SELECT id, lower(hex(key)) FROM sts_signing_key;
DROP TABLE sts_signing_key;
ALTER TABLE sts_signing_key_text RENAME TO sts_signing_key;

PRAGMA secure_delete = OFF;

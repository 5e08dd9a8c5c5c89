-- The STS signing key is sealed at rest like the other secrets (issue 15), and a sealed value
-- is text: the key is kept as the lowercase hex of its bytes, or that sealed with the master
-- key (sealed:v1:...), which the first start with a key does.
ALTER TABLE sts_signing_key ALTER COLUMN key TYPE text USING encode(key, 'hex');

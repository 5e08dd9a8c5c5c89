-- The WhatsApp Business Account and registration PIN of a space, for the Graph API provider.
ALTER TABLE spaces ADD COLUMN waba_id TEXT NOT NULL DEFAULT '';
ALTER TABLE spaces ADD COLUMN pin     TEXT NOT NULL DEFAULT '';

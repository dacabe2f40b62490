-- Issue 11: one comparison key per address, computed by the API in C# (EmailAddress.KeyOf: NFC, then
-- ToLowerInvariant). Every lookup by address is `email_key = @Key`, never lower() in SQL, so C# alone says
-- which addresses are the same one and C# and SQL cannot disagree. The unique index moves from lower(email)
-- to email_key.
ALTER TABLE users ADD COLUMN email_key text;

-- Existing rows. For an address of printable ASCII, NFC changes nothing and ToLowerInvariant maps A-Z to a-z
-- and nothing else, which is what translate() does here: the same key as C#, whatever the database's locale.
-- lower(normalize(email, NFC)) would NOT be the same key for every row: lower() follows the collation (with
-- "C" it leaves É alone, with a libc UTF-8 locale it maps İ to i where .NET keeps İ, with ICU it maps a final
-- Σ to ς), so a non-ASCII address could get a key C# never computes and its owner could no longer sign in.
UPDATE users SET email_key = translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
WHERE email ~ '^[ -~]*$';

-- Any other address gets a placeholder that no address can be keyed to (it has no '@'); the API computes the
-- real key in C# at start-up, before it serves a request (Users/EmailKeyBackfill.cs). Two old accounts whose
-- addresses differ only in Unicode form or in case ("é" composed and decomposed; "É" and "é" under a "C"
-- collation) were allowed side by side by the old index; the back-fill keys the first and reports the other.
UPDATE users SET email_key = 'rekey:' || id::text WHERE email_key IS NULL;

ALTER TABLE users ALTER COLUMN email_key SET NOT NULL;
CREATE UNIQUE INDEX users_email_key ON users (email_key);
-- What the back-fill reads at every start: empty, hence free, once it has run.
CREATE INDEX users_email_key_to_compute_idx ON users (id) WHERE email_key LIKE 'rekey:%';
DROP INDEX users_email_lower_key;

-- The address of an email change awaiting confirmation (an active account's sign-in address changes only once
-- the code sent there comes back). It reserves nothing: no index, anyone may still register it.
ALTER TABLE users ADD COLUMN pending_email text NULL CHECK (char_length(pending_email) <= 254);

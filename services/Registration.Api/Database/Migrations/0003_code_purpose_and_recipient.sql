-- Issue 11: a code either activates a pending account or confirms an active account's new address; each
-- code remembers the address it was emailed to (the per-address limits count by it). An active account's
-- only current code is an email-change code, a pending account's an activation code; never both.
ALTER TABLE activation_codes ADD COLUMN purpose text NOT NULL DEFAULT 'activation'
    CHECK (purpose IN ('activation', 'email-change'));
ALTER TABLE activation_codes ALTER COLUMN purpose DROP DEFAULT;

-- Every existing code was emailed to its user's address of the time; the current address is the best record
-- left of it (an old code of an account whose address changed since is long dead).
ALTER TABLE activation_codes ADD COLUMN sent_to text;
UPDATE activation_codes c SET sent_to = u.email FROM users u WHERE u.id = c.user_id;
ALTER TABLE activation_codes ALTER COLUMN sent_to SET NOT NULL;

-- 'email-change': the code of a PATCH on an active account (a PATCH on a pending account stays 'email-changed').
ALTER TABLE activation_codes DROP CONSTRAINT activation_codes_reason_check;
ALTER TABLE activation_codes ADD CONSTRAINT activation_codes_reason_check
    CHECK (reason IN ('registration', 'resend', 'email-changed', 'redelivery', 'email-change'));

-- Issue 12 item 10: when the user's last code was issued, on the user row. The resend cooldown counts from it,
-- the retention purge selects by it, and because issuing a code updates the row, a statement that locks the
-- row (the purge, a re-registration) re-reads it after a concurrent issue instead of acting on a stale view.
ALTER TABLE users ADD COLUMN last_code_issued_at timestamptz;
UPDATE users u SET last_code_issued_at = coalesce(
    (SELECT max(c.issued_at) FROM activation_codes c WHERE c.user_id = u.id), u.created_at);
ALTER TABLE users ALTER COLUMN last_code_issued_at SET NOT NULL;

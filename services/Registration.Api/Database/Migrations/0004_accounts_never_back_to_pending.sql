-- Issue 11: an account is never back to pending after activation (an email change waits for confirmation on
-- an active account), so ever_activated says nothing that status does not, and goes.
--
-- Rows it still marks: status 'pending' AND ever_activated, made by the old PATCH of an active account's
-- email. Their current address was never verified (their owner proved a mailbox, then moved to an address
-- nobody has confirmed). Rule: they become the ordinary pending accounts they are. Their owner can still
-- activate with the code sent to that address, or ask for a new one; once their code is dead the address's
-- real owner can take it over by registering (no squatting); retention deletes them PendingRetention after
-- their last code like any pending account. Count them before upgrading with
--   SELECT count(*) FROM users WHERE status = 'pending' AND ever_activated;
-- (the development and test databases hold none; the README's "Security model" states the rule).
DROP INDEX users_pending_created_at_idx;
ALTER TABLE users DROP COLUMN ever_activated;

-- The retention purge: pending accounts by their last code, oldest first.
CREATE INDEX users_pending_last_code_idx ON users (last_code_issued_at) WHERE status = 'pending';

-- Issue 12 item 2: the user a message is about, as a column with an index, so deleting or replacing an account
-- deletes its unpublished messages by index (under the user's row lock) instead of scanning the payloads.
ALTER TABLE outbox_messages ADD COLUMN user_id uuid NULL;

-- Every message written so far carries userId; a payload that does not (or not as a uuid) is left NULL rather
-- than failing the upgrade on one bad row.
UPDATE outbox_messages SET user_id = (payload->>'userId')::uuid
WHERE payload->>'userId' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

CREATE INDEX outbox_messages_user_undispatched_idx ON outbox_messages (user_id) WHERE dispatched_at IS NULL;

-- Poison outbox rows are parked instead of retried forever: a row whose payload cannot be read, or whose
-- message type no instance has known for a while, gets parked_at and a reason. The dispatcher never claims a
-- parked row again; operators list (and may requeue) them with `dotnet Registration.Api.dll outbox-parked`,
-- and they are deleted after Outbox:ParkedRetention (their payload holds an email address and a code).
ALTER TABLE outbox_messages
    ADD COLUMN parked_at     timestamptz NULL,
    ADD COLUMN parked_reason text        NULL;

-- The dispatcher's claim looks at rows that are neither dispatched nor parked.
DROP INDEX outbox_messages_undispatched_idx;
CREATE INDEX outbox_messages_undispatched_idx ON outbox_messages (created_at) WHERE dispatched_at IS NULL AND parked_at IS NULL;

-- The operators' list and the retention purge look at parked rows only (normally none).
CREATE INDEX outbox_messages_parked_idx ON outbox_messages (parked_at) WHERE parked_at IS NOT NULL;

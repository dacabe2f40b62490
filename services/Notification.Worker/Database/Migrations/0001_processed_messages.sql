-- MessageIds of activation events this worker has handled, so that a redelivery is not
-- emailed twice. Written after the provider accepted the email ('sent') or after the
-- expired-code event was published ('expired').
-- IF NOT EXISTS: databases migrated before DbUp (journal notification.schema_migrations, see 0002)
-- already have the table, and DbUp's journal does not know it.
CREATE TABLE IF NOT EXISTS notification.processed_messages (
    message_id   uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('sent', 'expired')),
    processed_at timestamptz NOT NULL
);

-- The hourly purge of old ids.
CREATE INDEX IF NOT EXISTS processed_messages_processed_at_idx ON notification.processed_messages (processed_at);

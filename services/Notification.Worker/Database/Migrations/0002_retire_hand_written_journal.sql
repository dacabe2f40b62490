-- The worker's scripts used to be applied by a runner of its own, journaled in
-- notification.schema_migrations. DbUp journals them in notification.schema_versions now;
-- the old journal only held the name of 0001, which is idempotent.
DROP TABLE IF EXISTS notification.schema_migrations;

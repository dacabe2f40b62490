-- Issue 11: what happened to an address, per its key (EmailAddress.KeyOf), for the per-address limits
-- shared by every API instance: codes emailed to it and wrong codes tried for it, counted over a rolling
-- 24 h across accounts and reasons. Deliberately not tied to users: deleting an account and registering
-- again must not reset the count. Rows older than the window are deleted by the retention purge.
CREATE TABLE address_activity (
    address_key text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('code-sent', 'wrong-code')),
    occurred_at timestamptz NOT NULL
);

CREATE INDEX address_activity_key_kind_time_idx ON address_activity (address_key, kind, occurred_at);
CREATE INDEX address_activity_time_idx ON address_activity (occurred_at);

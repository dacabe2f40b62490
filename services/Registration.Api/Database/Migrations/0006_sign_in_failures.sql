-- Issue 11: sign-in throttling, keyed by the address the client sent (its EmailAddress.KeyOf), whether or not
-- an account has it, so the answers never tell which addresses exist.
-- Per (address, client): consecutive wrong passwords and the block they earned (a success deletes the row).
CREATE TABLE sign_in_failures (
    email_key            text        NOT NULL,
    client_key           text        NOT NULL,
    consecutive_failures integer     NOT NULL CHECK (consecutive_failures > 0),
    blocked_until        timestamptz NULL,
    last_failure_at      timestamptz NOT NULL,
    PRIMARY KEY (email_key, client_key)
);

CREATE INDEX sign_in_failures_last_failure_idx ON sign_in_failures (last_failure_at);

-- Per address, from all clients: failures in the hour that started with the first of them.
CREATE TABLE sign_in_failures_per_email (
    email_key         text        PRIMARY KEY,
    window_started_at timestamptz NOT NULL,
    failures          integer     NOT NULL CHECK (failures > 0)
);

CREATE INDEX sign_in_failures_per_email_window_idx ON sign_in_failures_per_email (window_started_at);

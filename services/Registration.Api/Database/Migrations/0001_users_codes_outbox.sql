-- Users: one row per account. Emails are unique case-insensitively; the address is stored trimmed,
-- as the user typed it.
CREATE TABLE users (
    id             uuid        PRIMARY KEY,
    email          text        NOT NULL CHECK (char_length(email) <= 254),
    password_hash  text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'active')),
    created_at     timestamptz NOT NULL,
    activated_at   timestamptz NULL,
    -- Set once the account has been active: such an account is never purged nor replaced by a
    -- re-registration, even while pending again after an email change.
    ever_activated boolean     NOT NULL DEFAULT false,
    CHECK ((status = 'active') = (activated_at IS NOT NULL))
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
-- Keyset paging for operators, ordered by (created_at, id).
CREATE INDEX users_created_at_id_idx ON users (created_at, id);
-- The retention purge looks only at never-activated pending accounts.
CREATE INDEX users_pending_created_at_idx ON users (created_at) WHERE status = 'pending' AND NOT ever_activated;

-- Activation codes: every code ever issued to a user; only the newest one counts.
CREATE TABLE activation_codes (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code            char(4)     NOT NULL CHECK (code ~ '^[0-9]{4}$'),
    reason          text        NOT NULL CHECK (reason IN ('registration', 'resend', 'email-changed', 'redelivery')),
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    failed_attempts integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    superseded_at   timestamptz NULL,
    used_at         timestamptz NULL,
    CHECK (expires_at > issued_at)
);

CREATE INDEX activation_codes_user_issued_idx ON activation_codes (user_id, issued_at DESC);
-- At most one code per user is current (neither superseded nor used).
CREATE UNIQUE INDEX activation_codes_one_current_per_user
    ON activation_codes (user_id) WHERE superseded_at IS NULL AND used_at IS NULL;

-- Transactional outbox: written in the same transaction as the change it announces, published by
-- the dispatcher, marked dispatched only after the broker confirmed.
CREATE TABLE outbox_messages (
    id             uuid        PRIMARY KEY,
    message_type   text        NOT NULL,
    payload        jsonb       NOT NULL,
    created_at     timestamptz NOT NULL,
    trace_parent   text        NULL,
    attempts       integer     NOT NULL DEFAULT 0,
    last_error     text        NULL,
    next_attempt_at timestamptz NULL,
    dispatched_at  timestamptz NULL
);

CREATE INDEX outbox_messages_undispatched_idx ON outbox_messages (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX outbox_messages_dispatched_idx ON outbox_messages (dispatched_at) WHERE dispatched_at IS NOT NULL;

-- Wake the dispatcher as soon as a transaction that wrote outbox rows commits (NOTIFY is delivered
-- at commit, once per statement).
CREATE FUNCTION notify_outbox_messages() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_messages', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_messages_notify
    AFTER INSERT ON outbox_messages
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox_messages();

-- A MessageId is claimed before its email is sent, not only recorded after: two workers holding
-- copies of one message (a replay, a lost dispatch mark, a broker connection that dropped mid-send)
-- can no longer both send it. A claim is a row with outcome 'claimed', a lease_token naming the
-- holder and a lease_until after which another worker may take it over (its holder died).
--
-- Code emails also note whom they were for (the user and a hash of the address: the worker never
-- needs the address back) and when the code was issued, so that a code older than one already
-- handled for the same user and address is not emailed at all ('superseded').
ALTER TABLE notification.processed_messages DROP CONSTRAINT IF EXISTS processed_messages_outcome_check;

ALTER TABLE notification.processed_messages
    ADD CONSTRAINT processed_messages_outcome_check CHECK (outcome IN ('claimed', 'sent', 'expired', 'superseded')),
    ADD COLUMN recipient_hash bytea,
    ADD COLUMN code_issued_at timestamptz,
    ADD COLUMN lease_token    uuid,
    ADD COLUMN lease_until    timestamptz;

-- The newer-code check of every claim.
CREATE INDEX processed_messages_codes_idx
    ON notification.processed_messages (user_id, recipient_hash, code_issued_at)
    WHERE code_issued_at IS NOT NULL;

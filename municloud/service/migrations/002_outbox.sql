-- Transactional outbox of platform messages: written in the same transaction as the change
-- it reports, drained to the hub by the relay (municloud.service.outbox) when HUB_URL is set.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    message_type text NOT NULL,                 -- a body type of municloud.platform
    receiver_unit text NOT NULL,
    receiver_lgcode text NOT NULL,
    correlation_id uuid,                        -- e.g. the 所得照会 being answered
    source_ref text,                            -- what produced it (e.g. movement:42)
    payload jsonb NOT NULL,                     -- the body, as JSON
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    sent_at timestamptz,
    message_id uuid                             -- id of the message that carried it
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;

-- Platform hub schema: received messages, per-subscriber deliveries, hash-chained message log.

CREATE TABLE messages (
    message_id      uuid PRIMARY KEY,
    message_type    text NOT NULL,
    route_id        text NOT NULL,
    sender_unit     text NOT NULL,
    sender_lgcode   char(6) NOT NULL,
    receiver_unit   text NOT NULL,
    receiver_lgcode char(6) NOT NULL,
    correlation_id  uuid,
    body_sha256     bytea NOT NULL,
    body            bytea NOT NULL,           -- the signed XML as received (receivers verify it)
    received_at     timestamptz NOT NULL
);

CREATE TABLE deliveries (
    id                bigserial PRIMARY KEY,
    message_id        uuid NOT NULL REFERENCES messages (message_id),
    subscriber_lgcode char(6) NOT NULL,
    subscriber_unit   text NOT NULL,
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL,
    last_error        text,
    delivered_at      timestamptz,
    UNIQUE (message_id, subscriber_lgcode, subscriber_unit)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';

-- Append-only, hash-chained: row_hash = sha256(prev_hash || canonical row), see message_log.py.
CREATE TABLE message_log (
    seq         bigint PRIMARY KEY,
    recorded_at timestamptz NOT NULL,
    event       text NOT NULL,
    message_id  uuid,
    detail      text NOT NULL,                -- canonical JSON, never a message body
    prev_hash   bytea NOT NULL,
    row_hash    bytea NOT NULL
);

CREATE FUNCTION message_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'message_log is append-only (% refused)', TG_OP;
END
$$;

CREATE TRIGGER message_log_append_only BEFORE UPDATE OR DELETE ON message_log
    FOR EACH ROW EXECUTE FUNCTION message_log_refuse_change();
CREATE TRIGGER message_log_no_truncate BEFORE TRUNCATE ON message_log
    FOR EACH STATEMENT EXECUTE FUNCTION message_log_refuse_change();

-- アクセスログ: append-only, hash-chained log of every access to a resident's personal data.
-- Rows are never updated or deleted by the application: the trigger below refuses it for
-- every role (a superuser can still disable it, which verify_chain then detects).
CREATE TABLE access_log (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    staff_id    text NOT NULL,
    lgcode      text NOT NULL,
    purpose     text NOT NULL,
    resident_id text,           -- 宛名番号 of the resident concerned; never the 個人番号
    action      text NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);

-- The chain head: the last seq and hash, so that deleting the newest rows is detected too.
CREATE TABLE access_log_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO access_log_head (seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
-- The head may only move forward.
CREATE FUNCTION access_log_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'access_log_head may only advance' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER access_log_head_forward BEFORE UPDATE ON access_log_head
    FOR EACH ROW EXECUTE FUNCTION access_log_head_forward();
CREATE TRIGGER access_log_head_no_delete BEFORE DELETE ON access_log_head
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();

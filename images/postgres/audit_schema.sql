-- アクセスログ: the append-only, hash-chained log of every access to a resident's personal data.
--
-- Applied by the cluster initialisation (mc-postgres-entrypoint, init_primary) as superuser, in
-- every database, with psql variables :service (the database's login role) and :owner (its
-- NOLOGIN audit role <service>_audit). The schema, tables and trigger functions belong to the
-- audit role, so the application role — which owns its database and its public schema — can only
-- append (INSERT) and advance the head (UPDATE, forward only): it cannot drop, alter, disable a
-- trigger of, or truncate the log (not the owner). Only a superuser can still switch the
-- triggers off, and municloud.audit.verify_chain reports a disabled trigger and any rewritten,
-- inserted or deleted row.
\set ON_ERROR_STOP on
CREATE SCHEMA audit AUTHORIZATION :"owner";
SET ROLE :"owner";

CREATE TABLE audit.access_log (
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
CREATE TABLE audit.access_log_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO audit.access_log_head (seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION audit.access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON audit.access_log
    FOR EACH ROW EXECUTE FUNCTION audit.access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON audit.access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit.access_log_append_only();

-- The head may only move forward.
CREATE FUNCTION audit.access_log_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'access_log_head may only advance' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER access_log_head_forward BEFORE UPDATE ON audit.access_log_head
    FOR EACH ROW EXECUTE FUNCTION audit.access_log_head_forward();
CREATE TRIGGER access_log_head_no_delete BEFORE DELETE ON audit.access_log_head
    FOR EACH ROW EXECUTE FUNCTION audit.access_log_append_only();

RESET ROLE;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO :"service";
GRANT SELECT, INSERT ON audit.access_log TO :"service";
GRANT SELECT, UPDATE ON audit.access_log_head TO :"service";

-- 住民記録: current state (households, residents) + immutable 異動履歴 (movements) +
-- 転出証明書情報 received. The outbox of 住民異動通知 is the kit's (municloud.service.outbox).

CREATE TABLE households (                       -- 世帯
    household_number text PRIMARY KEY,          -- 世帯番号 (15 digits, lgcode + serial)
    head_atena_number text,                     -- 世帯主 (NULL between a head's death and 世帯変更)
    address text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE residents (                        -- 住民 (current state)
    atena_number text PRIMARY KEY,              -- 宛名番号
    resident_record_code text NOT NULL UNIQUE,  -- 住民票コード
    individual_number text UNIQUE,              -- 個人番号 (optional)
    family_name text NOT NULL,
    given_name text NOT NULL,
    family_name_kana text NOT NULL,
    given_name_kana text NOT NULL,
    birth_date date NOT NULL,
    sex text NOT NULL CHECK (sex IN ('1', '2')),
    household_number text NOT NULL REFERENCES households,
    relationship_to_head text NOT NULL,         -- 世帯主との続柄
    address text NOT NULL,
    address_date date NOT NULL,                 -- 住所を定めた年月日
    resident_since date NOT NULL,               -- 住民となった年月日
    notification_date date NOT NULL,            -- 届出日 (of the last 異動)
    previous_address text,                      -- 従前の住所
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved_out', 'deceased')),
    status_date date,                           -- 転出日 / 死亡日
    next_address text,                          -- 転出先
    next_lgcode text,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX residents_kana ON residents (family_name_kana text_pattern_ops, given_name_kana);
CREATE INDEX residents_name ON residents (family_name text_pattern_ops, given_name);
CREATE INDEX residents_birth ON residents (birth_date);
CREATE INDEX residents_household ON residents (household_number);

CREATE TABLE movements (                        -- 異動履歴 (immutable)
    movement_id bigserial PRIMARY KEY,
    atena_number text NOT NULL REFERENCES residents,
    kind text NOT NULL CHECK (kind IN ('move_in', 'move_within', 'move_out', 'birth', 'death',
                                       'household_change')),
    event_date date NOT NULL,                   -- 異動日
    notification_date date NOT NULL,            -- 届出日
    before jsonb,                               -- resident row before (NULL for 転入 / 出生)
    after jsonb NOT NULL,                       -- resident row after
    staff_id text NOT NULL,
    purpose text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX movements_resident ON movements (atena_number, movement_id);

CREATE FUNCTION movements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'movements (異動履歴) are immutable (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER movements_immutable BEFORE UPDATE OR DELETE ON movements
    FOR EACH ROW EXECUTE FUNCTION movements_immutable();

CREATE TABLE incoming_move_out_certificates (   -- 転出証明書情報 received from another municipality
    message_id uuid PRIMARY KEY,
    sender_lgcode text NOT NULL,
    certificate_number text NOT NULL,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sender_lgcode, certificate_number)
);

-- Allocators for numbers this municipality assigns (宛名番号, 世帯番号: lgcode + 9-digit serial).
-- Start high so that seed data (serials from 1) and live registrations never collide.
CREATE SEQUENCE atena_serial START 500000001;
CREATE SEQUENCE household_serial START 500000001;
CREATE SEQUENCE move_out_certificate_serial;

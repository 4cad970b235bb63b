-- 国民健康保険. persons: this service's own copy of residents, kept from 住民異動通知.
CREATE TABLE persons (
    atena_number text PRIMARY KEY,
    household_number text NOT NULL,
    individual_number text UNIQUE,
    family_name text NOT NULL,
    given_name text NOT NULL,
    family_name_kana text,
    given_name_kana text,
    birth_date date NOT NULL,
    sex text NOT NULL,
    relationship_to_head text NOT NULL,
    address text NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved_out', 'deceased')),
    status_date date,
    last_message_id uuid,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_household ON persons (household_number);

-- 資格: current enrolment state (one row per person ever enrolled) ...
CREATE TABLE enrolments (
    atena_number text PRIMARY KEY REFERENCES persons,
    insured boolean NOT NULL,
    acquired_on date NOT NULL,                  -- 資格取得日
    lost_on date,                               -- 資格喪失日
    reason text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- ... and its immutable history (資格異動履歴).
CREATE TABLE enrolment_events (
    id bigserial PRIMARY KEY,
    atena_number text NOT NULL REFERENCES persons,
    event text NOT NULL CHECK (event IN ('acquire', 'lose')),
    event_date date NOT NULL,
    reason text NOT NULL,
    message_id uuid,                            -- the 異動通知 that caused it, if any
    staff_id text,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION enrolment_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'enrolment_events are immutable (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER enrolment_events_immutable BEFORE UPDATE OR DELETE ON enrolment_events
    FOR EACH ROW EXECUTE FUNCTION enrolment_events_immutable();

-- Incomes received from tax (所得照会 answers), per fiscal year.
CREATE TABLE member_incomes (
    atena_number text NOT NULL,
    fiscal_year integer NOT NULL,
    found boolean NOT NULL,
    total_income bigint,                        -- 総所得金額等
    salary_income bigint,
    pension_income bigint,
    is_earner boolean,
    source text NOT NULL,                       -- hub:<message id> | api:<staff id>
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_number, fiscal_year)
);

-- Premiums (賦課), every computation kept.
CREATE TABLE premiums (
    household_number text NOT NULL,
    fiscal_year integer NOT NULL,
    revision integer NOT NULL,
    total bigint NOT NULL,
    breakdown jsonb NOT NULL,                   -- NhiPremiumBreakdown
    members jsonb NOT NULL,                     -- atena numbers and roles used
    staff_id text NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_number, fiscal_year, revision)
);

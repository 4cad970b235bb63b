-- 個人住民税. taxpayers: this service's own copy of residents, kept from 住民異動通知.
CREATE TABLE taxpayers (
    atena_number text PRIMARY KEY,               -- 宛名番号
    household_number text NOT NULL,
    individual_number text UNIQUE,               -- 個人番号
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
    last_message_id uuid,                        -- the 異動通知 applied last (NULL: seed data)
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- 申告: every submission is kept; the newest revision counts.
CREATE TABLE declarations (
    atena_number text NOT NULL REFERENCES taxpayers,
    fiscal_year integer NOT NULL,
    revision integer NOT NULL,
    declaration jsonb NOT NULL,                  -- municloud.calc.resident_tax.ResidentTaxDeclaration
    staff_id text NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_number, fiscal_year, revision)
);

-- 賦課: each computation is kept (revision); the newest is the current assessment.
CREATE TABLE assessments (
    atena_number text NOT NULL REFERENCES taxpayers,
    fiscal_year integer NOT NULL,
    revision integer NOT NULL,
    declaration_revision integer NOT NULL,
    total_income bigint NOT NULL,                -- 合計所得金額
    taxable_income bigint NOT NULL,              -- 課税所得
    municipal_total bigint NOT NULL,
    prefectural_total bigint NOT NULL,
    total bigint NOT NULL,
    breakdown jsonb NOT NULL,                    -- ResidentTaxBreakdown (every figure)
    staff_id text NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atena_number, fiscal_year, revision)
);

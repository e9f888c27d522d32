-- Owned by the dedupe (merge) stage: one record per real person, household and business.
-- Rebuilt from the accepted hub_rows by hub.dedupe.merge(); codes come from hub_codes and never change.
-- The rebuilt tables carry no PRIMARY KEY: each merge drops and re-creates them, the merge computes one
-- row per key and tests/dedupe asserts it (their ART indexes cost 2-3 s per merge at 1M persons).

-- Stable codes (一人一码): natural key -> code, never deleted. redirect_to is set when a code was
-- absorbed by another (merges of issue 4); readers follow it.
CREATE TABLE IF NOT EXISTS hub_codes (
    entity      VARCHAR NOT NULL,   -- person | household | business
    natural_key VARCHAR NOT NULL,   -- person: id_number; business: uscc; household: see hub.dedupe
    code        VARCHAR NOT NULL,   -- P000000001 / H000000001 / B000000001
    created_at  TIMESTAMP NOT NULL,
    redirect_to VARCHAR,
    PRIMARY KEY (entity, natural_key)
);

CREATE TABLE IF NOT EXISTS hub_person (
    person_code     VARCHAR NOT NULL,
    id_number       VARCHAR NOT NULL,
    id_type         VARCHAR,
    name            VARCHAR,
    sex             VARCHAR,        -- GB/T 2261.1 code
    birth_date      DATE,
    ethnicity       VARCHAR,        -- GB/T 3304 code
    marital_status  VARCHAR,
    township_code   VARCHAR,        -- 9 digits: the township that counts this person (latest submission)
    village_code    VARCHAR,        -- 12 digits
    address         VARCHAR,
    phone           VARCHAR,
    alive           BOOLEAN NOT NULL,
    death_date      DATE,
    updated_at      TIMESTAMP       -- submitted_at of the latest submission that mentions the person
);

CREATE TABLE IF NOT EXISTS hub_disability (
    person_code  VARCHAR NOT NULL,
    category     VARCHAR,          -- 1..7
    level        VARCHAR,          -- 1..4
    certificate  VARCHAR           -- 20-char second-generation number
);

CREATE TABLE IF NOT EXISTS hub_household (
    household_code  VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,   -- 户籍户 | 低保家庭
    township_code   VARCHAR,
    village_code    VARCHAR,
    head_person_code VARCHAR,
    dibao_category  VARCHAR,            -- 1 城市 2 农村 (NULL: derive from the village kind)
    household_size  INTEGER,            -- members listed
    covered_count   INTEGER,
    dibao_amount    DECIMAL(12, 2),
    dibao_start     DATE,
    active          BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS hub_membership (
    household_code VARCHAR NOT NULL,
    person_code    VARCHAR NOT NULL,
    relation       VARCHAR,             -- GB/T 4761 code, relative to the head ('02' for the head)
    covered        BOOLEAN,
    seq            INTEGER              -- order of the member in the source ledger
);

CREATE TABLE IF NOT EXISTS hub_business (
    business_code  VARCHAR NOT NULL,
    uscc           VARCHAR NOT NULL,
    name           VARCHAR,
    operator_name  VARCHAR,
    address        VARCHAR,
    township_code  VARCHAR,
    village_code   VARCHAR,
    phone          VARCHAR
);

-- Every value every source gave, for provenance and conflicts: a VIEW over hub_rows (the rows already
-- hold submission, sheet and row; hub_columns the header), so nothing is copied. This placeholder is
-- empty (nothing merged yet); hub.dedupe.merge() replaces it with the real definition, generated from
-- the survivorship rules (hub.dedupe.values.hub_values_view_sql), so IF NOT EXISTS, never OR REPLACE.
CREATE VIEW IF NOT EXISTS hub_values AS
SELECT CAST(NULL AS VARCHAR) AS entity, CAST(NULL AS VARCHAR) AS entity_code, CAST(NULL AS VARCHAR) AS field,
       CAST(NULL AS VARCHAR) AS value, CAST(NULL AS BIGINT) AS submission_id, CAST(NULL AS VARCHAR) AS sheet,
       CAST(NULL AS INTEGER) AS row_no, CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS TIMESTAMP) AS submitted_at
WHERE false;

-- Fields where sources disagree: every value with its source, the chosen one and the rule.
CREATE TABLE IF NOT EXISTS hub_conflicts (
    entity        VARCHAR NOT NULL,
    entity_code   VARCHAR NOT NULL,
    field         VARCHAR NOT NULL,   -- or 'township' for 重复登记
    conflict_kind VARCHAR NOT NULL,   -- 值不一致 | 重复登记
    chosen        VARCHAR,
    rule          VARCHAR NOT NULL,   -- the rule that picked `chosen`, in Chinese
    sources       JSON NOT NULL       -- [{value, submission_id, file, sheet, row, kind, submitted_at}]
);

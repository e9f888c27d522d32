-- Owned by the ingest/validate stages. Idempotent.
CREATE SEQUENCE IF NOT EXISTS hub_submission_seq START 1;

-- The county's division table (统计用区划代码): level county|township|village.
CREATE TABLE IF NOT EXISTS hub_divisions (
    code      VARCHAR PRIMARY KEY,   -- 6, 9 or 12 digits as loaded (townships stored as 9)
    name      VARCHAR NOT NULL,
    level     VARCHAR NOT NULL,      -- county | township | village
    parent    VARCHAR,               -- code of the parent, from the code prefix
    kind      VARCHAR                -- 街道 / 镇 / 乡 / 社区 / 村 (from the code segment)
);

-- One row per ingested file.
CREATE TABLE IF NOT EXISTS hub_submissions (
    submission_id  BIGINT PRIMARY KEY,
    file_name      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    township_code  VARCHAR,           -- 9 digits
    kind           VARCHAR,           -- ledger kind(s), comma-separated when sheets differ
    submitted_at   TIMESTAMP NOT NULL,
    submitted_by   VARCHAR,
    rows           INTEGER NOT NULL,
    accepted       INTEGER NOT NULL,
    rejected       INTEGER NOT NULL,
    errors         INTEGER NOT NULL,
    warnings       INTEGER NOT NULL,
    annotated_path VARCHAR,
    cells_typed    BIGINT             -- non-empty cells of mapped columns (the burden figure)
);

-- Header provenance: which clerk-written header fed which canonical field.
CREATE TABLE IF NOT EXISTS hub_columns (
    submission_id BIGINT NOT NULL,
    sheet         VARCHAR NOT NULL,
    col_index     INTEGER NOT NULL,   -- 1-based, as Excel's column number
    header        VARCHAR NOT NULL,   -- as the clerk wrote it (multi-level headers joined with '/')
    field         VARCHAR             -- canonical field, NULL when ignored
);

-- Every data row exactly as read (after merged cells and ditto marks were filled), keyed by the
-- row number Excel or a text editor shows. cells: JSON object header -> text.
CREATE TABLE IF NOT EXISTS hub_raw_rows (
    submission_id BIGINT NOT NULL,
    sheet         VARCHAR NOT NULL,
    row_no        INTEGER NOT NULL,
    cells         JSON
);

-- Every data row normalised into canonical fields; accepted = no error finding.
CREATE TABLE IF NOT EXISTS hub_rows (
    submission_id       BIGINT NOT NULL,
    sheet               VARCHAR NOT NULL,
    row_no              INTEGER NOT NULL,
    township_code       VARCHAR,
    kind                VARCHAR NOT NULL,
    accepted            BOOLEAN NOT NULL,
    household_key       VARCHAR,        -- groups the member rows of one household (低保 roster)
    id_number           VARCHAR,        -- 18 chars, upper-case X; 15-digit numbers converted
    id_type             VARCHAR,        -- resident | hk_mo_tw | foreign_permanent
    name                VARCHAR,
    sex                 VARCHAR,        -- GB/T 2261.1 code; the ID wins when they disagree
    birth_date          DATE,
    birth_precision     VARCHAR,        -- day | month
    ethnicity           VARCHAR,        -- GB/T 3304 two-digit code
    marital_status      VARCHAR,        -- GB/T 2261.2 code
    village_code        VARCHAR,        -- 12 digits
    address             VARCHAR,
    phone               VARCHAR,        -- normalised; several numbers joined with ';'
    person_status       VARCHAR,        -- 1 正常 2 死亡 3 迁出
    death_date          DATE,
    household_no        VARCHAR,
    head_name           VARCHAR,
    head_id_number      VARCHAR,
    relation            VARCHAR,        -- GB/T 4761 code
    dibao_category      VARCHAR,        -- 1 城市 2 农村
    household_size      INTEGER,
    covered_count       INTEGER,
    covered             BOOLEAN,
    dibao_amount        DECIMAL(12, 2),
    dibao_start         DATE,
    disability_category VARCHAR,        -- GB/T 26341 1..7
    disability_level    VARCHAR,        -- 1..4
    disability_cert     VARCHAR,        -- 20 chars
    uscc                VARCHAR,
    reg_no              VARCHAR,
    business_name       VARCHAR,
    operator_name       VARCHAR,
    remark              VARCHAR
);

-- Row-level findings (errors reject the row, warnings do not).
CREATE TABLE IF NOT EXISTS hub_findings (
    submission_id BIGINT NOT NULL,
    sheet         VARCHAR NOT NULL,
    row_no        INTEGER NOT NULL,
    column_name   VARCHAR,   -- header as the clerk wrote it
    field         VARCHAR,   -- canonical field
    value         VARCHAR,   -- the cell as written
    code          VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL,
    message       VARCHAR NOT NULL
);

-- Owned by report admission (hub/admission, docs/admission.md): department drafts, their reviews,
-- the steward's decisions, the registry of admitted reports (报表清单), the fields admission added
-- to the model, and the cells delivered per report, township and month (the burden ledger).
-- Idempotent.
CREATE SEQUENCE IF NOT EXISTS hub_draft_seq START 1;

CREATE TABLE IF NOT EXISTS hub_drafts (
    draft_id      BIGINT PRIMARY KEY,
    report_id     VARCHAR NOT NULL,   -- the id the report will have once admitted (e.g. WJ-CJFW)
    department    VARCHAR NOT NULL,
    title         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,   -- monthly | quarterly | annual | on_demand
    population    VARCHAR,            -- key of hub.admission.burden.POPULATIONS, NULL: inferred
    legal_basis   VARCHAR,
    source        VARCHAR NOT NULL,   -- file name (or 'web')
    submitted_by  VARCHAR NOT NULL,
    submitted_at  TIMESTAMP NOT NULL,
    columns_json  VARCHAR NOT NULL,   -- the draft's columns: header path, 口径 note, example values
    review_json   VARCHAR,            -- the last review (classification and burden), kept as shown
    status        VARCHAR NOT NULL    -- submitted | admitted | returned | rejected
);

-- Every decision on a draft, never updated: who, when, what, why.
CREATE TABLE IF NOT EXISTS hub_draft_decisions (
    draft_id   BIGINT NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    decided_by VARCHAR NOT NULL,
    decision   VARCHAR NOT NULL,      -- admit | return | reject
    reason     VARCHAR NOT NULL,
    summary    VARCHAR                -- columns by class, cells with and without the hub
);

-- 报表清单: a report is exported only when it is here or in schemas/registry.yaml (the reports
-- registered at setup).
CREATE TABLE IF NOT EXISTS hub_report_registry (
    report_id    VARCHAR PRIMARY KEY,
    department   VARCHAR NOT NULL,
    title        VARCHAR NOT NULL,
    period       VARCHAR NOT NULL,
    fields       VARCHAR NOT NULL,    -- the report's columns, '；'-separated
    legal_basis  VARCHAR,
    admitted_by  VARCHAR NOT NULL,
    admitted_at  TIMESTAMP NOT NULL,
    draft_id     BIGINT,
    derivable    INTEGER NOT NULL DEFAULT 0,  -- columns generated from the model (incl. 口径 confirmed)
    shared       INTEGER NOT NULL DEFAULT 0,  -- columns another admitted report collects
    new_fields   INTEGER NOT NULL DEFAULT 0   -- columns townships newly fill in
);

-- Fields admission added to the canonical model (the 一张表's 新增字段 part).
CREATE TABLE IF NOT EXISTS hub_extra_fields (
    field_key   VARCHAR PRIMARY KEY,
    label       VARCHAR NOT NULL,
    entity      VARCHAR NOT NULL,     -- person | household | business
    note        VARCHAR,              -- the department's 口径
    report_id   VARCHAR NOT NULL,     -- the report whose admission added it
    added_at    TIMESTAMP NOT NULL
);

-- Cells delivered by each written report file (the burden ledger's delivered side), per export.
CREATE TABLE IF NOT EXISTS hub_deliveries (
    delivered_at  TIMESTAMP NOT NULL,
    report_date   DATE NOT NULL,
    report_id     VARCHAR NOT NULL,
    township_code VARCHAR,            -- NULL: a county-wide file
    records       BIGINT NOT NULL,
    cells         BIGINT NOT NULL,
    model_cells   BIGINT NOT NULL
);

-- Owned by hub/exchange (departures.py, feedback.py): resubmissions that supersede an earlier ledger
-- of the same source, the residents they left out (待核实), department feedback on records, and every
-- answer a clerk gave. Idempotent. See docs/operations.md ("Resubmissions") and docs/web.md (回流).

CREATE SEQUENCE IF NOT EXISTS hub_departure_seq START 1;
CREATE SEQUENCE IF NOT EXISTS hub_feedback_seq START 1;

-- A submission (new) that replaces an earlier one of the same township and source (old). In force
-- while the new submission is in the store: withdrawing the new one brings the old one back.
CREATE TABLE IF NOT EXISTS hub_supersessions (
    old_submission_id BIGINT NOT NULL,
    new_submission_id BIGINT NOT NULL,
    township_code     VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,   -- kind + file name without its period (hub.exchange.departures.source_of)
    added             INTEGER NOT NULL,   -- persons in the new ledger, not in force from the source before
    changed           INTEGER NOT NULL,   -- persons in both whose row differs
    left_count        INTEGER NOT NULL,   -- persons no longer listed: flagged 待核实 (hub_departures)
    superseded_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (old_submission_id, new_submission_id)
);

-- A resident the earlier ledger listed and the new one does not: 待核实 until the clerk answers.
-- answer NULL (待核实) or '漏报': the old row stays in force; '迁出' / '死亡': it leaves the merge.
CREATE TABLE IF NOT EXISTS hub_departures (
    departure_id      BIGINT PRIMARY KEY,
    person_code       VARCHAR,            -- the person's stable code (一人一码)
    id_number         VARCHAR NOT NULL,
    name              VARCHAR,
    township_code     VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,
    old_submission_id BIGINT NOT NULL,    -- the submission whose row of the person stays in force meanwhile
    new_submission_id BIGINT NOT NULL,    -- the resubmission that left the person out
    flagged_at        TIMESTAMP NOT NULL,
    answer            VARCHAR,            -- 迁出 | 死亡 | 漏报 | NULL (待核实)
    answered_by       VARCHAR,
    answered_at       TIMESTAMP,
    note              VARCHAR,
    closed_by         BIGINT              -- a later submission of the source that listed the person again or flagged them anew
);

-- Feedback a department posts on a record (POST /api/v1/feedback), open until the township answers.
CREATE TABLE IF NOT EXISTS hub_feedback (
    feedback_id   BIGINT PRIMARY KEY,
    entity        VARCHAR NOT NULL,       -- person | household | business
    record_code   VARCHAR NOT NULL,
    field         VARCHAR,                -- canonical field, or NULL for the whole record
    message       VARCHAR NOT NULL,       -- what is wrong
    township_code VARCHAR,                -- the township the record is counted in when posted
    department    VARCHAR NOT NULL,
    posted_by     VARCHAR NOT NULL,
    posted_at     TIMESTAMP NOT NULL,
    answer        VARCHAR,                -- the latest answer (every answer in hub_answers)
    answered_by   VARCHAR,
    answered_at   TIMESTAMP,
    note          VARCHAR
);

-- Every answer a clerk gave, kept for good (an answer changed later is another row).
CREATE TABLE IF NOT EXISTS hub_answers (
    item        VARCHAR NOT NULL,         -- departure | feedback
    item_id     BIGINT NOT NULL,
    answer      VARCHAR NOT NULL,
    note        VARCHAR,
    answered_by VARCHAR NOT NULL,
    answered_at TIMESTAMP NOT NULL
);

-- Submissions replaced by one still in the store: their rows leave the merge (hub.dedupe.values.rows_sql) ...
CREATE OR REPLACE VIEW hub_superseded AS
SELECT DISTINCT s.old_submission_id AS submission_id
FROM hub_supersessions s JOIN hub_submissions n ON n.submission_id = s.new_submission_id;

-- ... except the rows of residents left out and not (yet) answered 迁出 / 死亡.
CREATE OR REPLACE VIEW hub_departures_kept AS
SELECT d.old_submission_id AS submission_id, d.id_number
FROM hub_departures d
WHERE (d.answer IS NULL OR d.answer = '漏报')
  AND d.new_submission_id IN (SELECT submission_id FROM hub_submissions)
  AND (d.closed_by IS NULL OR d.closed_by NOT IN (SELECT submission_id FROM hub_submissions));

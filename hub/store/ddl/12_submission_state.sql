-- Owned by the ingest unit (hub/store/submissions.py): where each submission's ingest has got to, and
-- the submissions withdrawn. Idempotent. See docs/operations.md.

-- One row per submission stored since states were kept (a submission without a row here is complete).
-- state: stored   rows, raw rows, header map and findings committed (one transaction);
--        linked   entity resolution ran over the store with these rows and the counts were re-derived
--                 (one transaction); the annotated copy is still to be written;
--        complete the annotated copy is in place (or none was asked for or needed) and recorded.
CREATE TABLE IF NOT EXISTS hub_submission_state (
    submission_id BIGINT PRIMARY KEY,
    state         VARCHAR NOT NULL,
    source_path   VARCHAR,            -- the file as given (to write its annotated copy when resumed)
    link          BOOLEAN NOT NULL,   -- the ingest asked for entity resolution
    annotate      BOOLEAN NOT NULL,   -- the ingest asked for an annotated copy
    updated_at    TIMESTAMP NOT NULL
);

-- Submissions withdrawn: what the submission was, and who withdrew it, when and why. Its rows,
-- findings and header map leave the store; this row stays for good (the audit trail).
CREATE TABLE IF NOT EXISTS hub_withdrawals (
    submission_id  BIGINT PRIMARY KEY,
    file_name      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    township_code  VARCHAR,
    kind           VARCHAR,
    submitted_at   TIMESTAMP NOT NULL,
    submitted_by   VARCHAR,
    rows           INTEGER NOT NULL,
    accepted       INTEGER NOT NULL,
    rejected       INTEGER NOT NULL,
    withdrawn_at   TIMESTAMP NOT NULL,
    withdrawn_by   VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    completed_at   TIMESTAMP           -- linkage and merge redone without its rows (NULL: still to do)
);

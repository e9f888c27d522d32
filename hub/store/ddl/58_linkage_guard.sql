-- Owned by hub/dedupe/linkage/guard.py: what the last full linkage run's guard decided, kept so that
-- an upload linked against the store (incremental.link_delta) scores against the same records and
-- clusters the collapsed ones as the full run does (docs/linkage.md, "What is incremental").
-- Collapsed records (exact copies past max_identical): each takes its group's second record's cluster.
CREATE TABLE IF NOT EXISTS hub_link_twins (
    uid        VARCHAR NOT NULL,
    first_uid  VARCHAR NOT NULL,
    second_uid VARCHAR NOT NULL
);
-- The guard's settings of that run and the blocking rules it guarded (an oversized block); one row.
CREATE TABLE IF NOT EXISTS hub_link_guard (
    max_identical INTEGER NOT NULL,
    max_block     INTEGER NOT NULL,
    guarded       VARCHAR[] NOT NULL
);

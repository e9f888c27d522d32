-- Owned by the incremental merge (hub/dedupe/incremental.py): what the last merge read, so the next
-- one recomputes only the entities the changed rows can touch (docs/merging.md). Written by every
-- merge, full or incremental, in the merge's transaction; never read by anything else.

-- One row per hub row in force at the last merge (hub.dedupe.values.rows_sql): a hash of its content
-- and the natural keys it fed (person: id_number and head_id_number; business: uscc; household:
-- hh_key, as hub.dedupe.values.household_src gave it).
CREATE TABLE IF NOT EXISTS hub_merge_rows (
    submission_id  BIGINT NOT NULL,
    sheet          VARCHAR NOT NULL,
    row_no         INTEGER NOT NULL,
    fp             UBIGINT NOT NULL,
    id_number      VARCHAR,
    head_id_number VARCHAR,
    uscc           VARCHAR,
    hh_key         VARCHAR
);

-- The redirected codes (hub_codes.redirect_to) the last merge followed.
CREATE TABLE IF NOT EXISTS hub_merge_redirects (
    entity      VARCHAR NOT NULL,
    natural_key VARCHAR NOT NULL,
    redirect_to VARCHAR NOT NULL
);

-- One row once a merge has written the two tables above (absent: the next merge is a full one).
CREATE TABLE IF NOT EXISTS hub_merge_state (
    merged_at TIMESTAMP NOT NULL,
    mode      VARCHAR NOT NULL,   -- full | incremental
    persons   BIGINT,             -- entities recomputed by the last merge (all of them when full)
    households BIGINT,
    businesses BIGINT
);

-- Owned by hub/dedupe/linkage/incremental.py: the linkage inputs (rows, findings, files) as the last
-- full linkage run saw them, as one order-independent hash, and whether that run can be continued
-- without re-scoring (saved model, no collapsed or guarded records).
CREATE TABLE IF NOT EXISTS hub_link_state (
    fp        UBIGINT NOT NULL,
    plain     BOOLEAN NOT NULL,
    linked_at TIMESTAMP NOT NULL
);

-- Owned by the linkage stage (hub/dedupe/linkage): entity resolution beyond the ID number. Idempotent.
-- A record is one person row of hub_rows; its uid is content-addressed (file sha256 prefix : sheet :
-- row), so it does not depend on the order files were submitted in.

-- Scored candidate pairs of the latest run (match_probability >= the lower threshold).
-- status: auto (>= upper, merged), review (between thresholds), blocked (a hard rule forbids it).
CREATE TABLE IF NOT EXISTS hub_link_pairs (
    pair_id           VARCHAR PRIMARY KEY,  -- 12 hex chars of md5(uid_l, uid_r): what `hub review` shows
    uid_l             VARCHAR NOT NULL,
    uid_r             VARCHAR NOT NULL,     -- uid_l < uid_r
    match_probability DOUBLE NOT NULL,
    match_weight      DOUBLE NOT NULL,
    gammas            JSON,                 -- comparison -> weight it contributed (what drove the score)
    status            VARCHAR NOT NULL,
    rule              VARCHAR,              -- Chinese: the rule that set the status
    scored_at         TIMESTAMP NOT NULL
);

-- Steward decisions, reused forever: a decided pair is never asked again.
CREATE TABLE IF NOT EXISTS hub_link_decisions (
    pair_id           VARCHAR PRIMARY KEY,
    uid_l             VARCHAR NOT NULL,
    uid_r             VARCHAR NOT NULL,
    decision          VARCHAR NOT NULL,     -- accept | reject
    decided_by        VARCHAR NOT NULL,
    decided_at        TIMESTAMP NOT NULL,
    match_probability DOUBLE                -- the score when decided
);

-- Cluster membership of the latest run: record -> cluster key -> surviving person code.
CREATE TABLE IF NOT EXISTS hub_link_clusters (
    uid           VARCHAR PRIMARY KEY,
    submission_id BIGINT,
    sheet         VARCHAR,
    row_no        INTEGER,
    cluster_key   VARCHAR NOT NULL,         -- the anchor ID number, or 'rec:' || first uid
    person_code   VARCHAR NOT NULL
);

-- Every redirect ever made or undone (hub_codes.redirect_to holds the current one).
CREATE TABLE IF NOT EXISTS hub_link_redirects (
    code        VARCHAR NOT NULL,
    redirect_to VARCHAR,                    -- NULL: a split gave the code back its own person
    changed_at  TIMESTAMP NOT NULL,
    reason      VARCHAR NOT NULL
);

-- Rows kept out of the merge because they contradict the ID they carry (id-misused).
CREATE TABLE IF NOT EXISTS hub_link_misuse (
    submission_id BIGINT NOT NULL,
    sheet         VARCHAR NOT NULL,
    row_no        INTEGER NOT NULL,
    id_number     VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,
    flagged_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (submission_id, sheet, row_no)
);

-- Rejected rows accepted because they link to exactly one known person (id-filled-by-match).
CREATE TABLE IF NOT EXISTS hub_link_fills (
    submission_id     BIGINT NOT NULL,
    sheet             VARCHAR NOT NULL,
    row_no            INTEGER NOT NULL,
    id_number         VARCHAR NOT NULL,     -- the ID written into hub_rows
    source_uid        VARCHAR NOT NULL,     -- the record it came from
    match_probability DOUBLE NOT NULL,
    original_code     VARCHAR NOT NULL,     -- the ID error the row was rejected for
    filled_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (submission_id, sheet, row_no)
);

-- The trained model's levels with their weights (log2 Bayes factor), to say which fields drove a pair.
CREATE TABLE IF NOT EXISTS hub_link_levels (
    comparison VARCHAR NOT NULL,
    gamma      INTEGER NOT NULL,
    label      VARCHAR NOT NULL,
    weight     DOUBLE NOT NULL,
    PRIMARY KEY (comparison, gamma)
);

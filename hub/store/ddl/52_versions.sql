-- Owned by the exchange (hub/exchange): data versions. Idempotent. See docs/exchange.md.

-- One row per state of the merged store: every merge (after an ingest, a withdrawal, a review decision,
-- `hub run`) and every load of divisions stamps the next version. Report snapshots, the cached files
-- and the cursors of the changes feed are keyed by it. Version 0 is the store before the first stamp.
CREATE TABLE IF NOT EXISTS hub_data_versions (
    version    BIGINT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    cause      VARCHAR NOT NULL,    -- Chinese: 合并 | 撤回 N | 复核 PAIR | 区划
    inputs     VARCHAR              -- the submissions merged (count:max id:withdrawn), see versions.stale
);

-- Owned by the exchange (hub/exchange): which townships a data version changed. Idempotent. See docs/exchange.md.

-- A version with rows here changed the merged records of those townships only (an incremental merge
-- knows which persons, households and businesses it recomputed, and their townships before and after);
-- its marker row (township_code NULL) says so even when it changed none. A version without rows here
-- changed everything (a full merge, a divisions load, a store from before this table). A township's
-- report snapshots key on the last version that changed it (versions.current_for), so an upload in one
-- township leaves every other township's cached files current.
CREATE TABLE IF NOT EXISTS hub_version_townships (
    version       BIGINT NOT NULL,
    township_code VARCHAR
);

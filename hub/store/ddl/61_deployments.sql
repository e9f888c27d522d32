-- Owned by the exchange (hub/exchange/versions.py): what the store's views were defined by when it
-- was last opened for writing. A deploy that changes them (a DDL file, an admitted field's view)
-- stamps a new data version (cause 部署), so no report file cached or cursor handed out before the
-- deploy is served as current after it (docs/exchange.md, "Data versions"). Idempotent.
CREATE TABLE IF NOT EXISTS hub_deployments (
    opened_at   TIMESTAMP NOT NULL,
    fingerprint VARCHAR NOT NULL,   -- sha256 of the DDL files and the admitted fields' view columns
    version     BIGINT              -- the version it stamped (NULL: the first open of a new store)
);

-- Owned by column recognition (hub.ingest.columns.memory). Idempotent.
-- Column mappings a clerk or steward confirmed, per township and header layout. A new confirmation of
-- the same (township, layout) makes the older row inactive; every row stays, as the history.
CREATE SEQUENCE IF NOT EXISTS hub_column_map_seq START 1;
CREATE TABLE IF NOT EXISTS hub_column_maps (
    map_id        BIGINT PRIMARY KEY,
    township_code VARCHAR,             -- 9 digits; NULL: confirmed before the township was known
    layout        VARCHAR NOT NULL,    -- hub.ingest.columns.layout_key of the headers
    headers       JSON NOT NULL,       -- the headers as written, in column order
    mapping       JSON NOT NULL,       -- normalised header -> canonical field, or null (not a field)
    confirmed_by  VARCHAR,
    confirmed_at  TIMESTAMP NOT NULL,
    file_name     VARCHAR,             -- the file it was confirmed on
    active        BOOLEAN NOT NULL
);

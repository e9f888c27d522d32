-- Owned by hub.extension (docs/admission.md, "New fields"): the values of the fields report admission
-- added to the model (schemas/extensions.yaml). The model's own fields have a column each in hub_rows
-- and the merged tables; an admitted field is a key, so its values are kept as (key, value) rows.
-- Idempotent.

-- Every cell of an admitted field's column in an ingested sheet, cleaned and checked at ingest
-- (a code outside its list is a warning finding and is not kept). Withdrawn with its submission.
CREATE TABLE IF NOT EXISTS hub_extra_values (
    submission_id BIGINT NOT NULL,
    sheet         VARCHAR NOT NULL,
    row_no        INTEGER NOT NULL,
    field_key     VARCHAR NOT NULL,   -- x_<report>_<column>, a key of schemas/extensions.yaml
    value         VARCHAR NOT NULL    -- cleaned text, or the code of a coded field
);

-- The value each person (by ID) or business (by USCC) has, rebuilt by every merge from the accepted
-- rows in force: the latest submission's value wins, as for the model's own fields.
CREATE TABLE IF NOT EXISTS hub_extra (
    entity        VARCHAR NOT NULL,   -- person | business
    entity_code   VARCHAR NOT NULL,   -- P… / B… (hub_codes, redirects followed)
    field_key     VARCHAR NOT NULL,
    value         VARCHAR NOT NULL,
    submission_id BIGINT NOT NULL,    -- where the chosen value came from
    submitted_at  TIMESTAMP
);

-- The views a mapping spec reads admitted fields through (alias px / bx): one column per admitted
-- field. hub.extension.create_views replaces these placeholders with the real column list whenever
-- the model changes; IF NOT EXISTS keeps the columns already there.
CREATE VIEW IF NOT EXISTS person_extra AS
SELECT entity_code AS person_code FROM hub_extra WHERE entity = 'person' GROUP BY entity_code;

CREATE VIEW IF NOT EXISTS business_extra AS
SELECT entity_code AS business_code FROM hub_extra WHERE entity = 'business' GROUP BY entity_code;

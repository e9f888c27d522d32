-- Owned by the export stage (hub/export/flags.py). Values the hub flagged at validation and kept as
-- they were written (a phone number failing the check, a certificate number that disagrees…): the
-- department reports mark them (fill, comment, a note in the 说明 sheet) instead of passing them on
-- silently. A value the hub corrected (sex or birth date taken from the ID, a note removed from a
-- name) differs from the cell as written and is not flagged. Read from the warnings (few) and the
-- rows they name, not from hub_values (computed from every row on read). Idempotent.
CREATE OR REPLACE VIEW flagged_value AS
WITH f AS (
    SELECT submission_id, sheet, row_no, field, value AS written, code
    FROM hub_findings
    WHERE severity = 'warning' AND field IS NOT NULL
),
r AS (
    SELECT f.field, f.written, f.code,
           CASE WHEN r.kind = 'business' THEN 'business' ELSE 'person' END AS entity,
           CASE WHEN r.kind = 'business' THEN r.uscc ELSE r.id_number END AS natural_key,
           CASE f.field
               WHEN 'phone' THEN r.phone
               WHEN 'address' THEN r.address
               WHEN 'name' THEN r.name
               WHEN 'sex' THEN r.sex
               WHEN 'birth_date' THEN CAST(r.birth_date AS VARCHAR)
               WHEN 'ethnicity' THEN r.ethnicity
               WHEN 'marital_status' THEN r.marital_status
               WHEN 'id_number' THEN r.id_number
               WHEN 'disability_category' THEN r.disability_category
               WHEN 'disability_level' THEN r.disability_level
               WHEN 'disability_cert' THEN r.disability_cert
               WHEN 'business_name' THEN r.business_name
               WHEN 'operator_name' THEN r.operator_name
           END AS value
    FROM f JOIN hub_rows r USING (submission_id, sheet, row_no)
    WHERE r.accepted
)
SELECT r.entity, coalesce(c.redirect_to, c.code) AS entity_code, r.field, r.value, min(r.code) AS code
FROM r JOIN hub_codes c ON c.entity = r.entity AND c.natural_key = r.natural_key
WHERE r.value IS NOT NULL AND regexp_replace(coalesce(r.written, ''), '\s', '', 'g') = r.value
GROUP BY r.entity, coalesce(c.redirect_to, c.code), r.field, r.value;

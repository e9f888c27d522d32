-- Owned by the export stage (hub/export/flags.py). Values the hub flagged at validation and kept as
-- they were written (a phone number failing the check, a certificate number that disagrees…): the
-- department reports mark them (fill, comment, a note in the 说明 sheet) instead of passing them on
-- silently. A value the hub corrected (sex or birth date taken from the ID, a note removed from a
-- name) differs from the cell as written and is not flagged. Idempotent.
CREATE OR REPLACE VIEW flagged_value AS
SELECT v.entity, v.entity_code, v.field, v.value, min(f.code) AS code
FROM hub_findings f
JOIN hub_values v
  ON v.submission_id = f.submission_id AND v.sheet = f.sheet AND v.row_no = f.row_no AND v.field = f.field
WHERE f.severity = 'warning' AND regexp_replace(coalesce(f.value, ''), '\s', '', 'g') = v.value
GROUP BY v.entity, v.entity_code, v.field, v.value;

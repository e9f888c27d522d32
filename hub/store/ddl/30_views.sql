-- Owned by the export stage. The canonical views mapping specs are written against, and the macros
-- they may call. Idempotent (CREATE OR REPLACE); reads only the merged tables of 20_merge.sql and
-- hub_divisions of 10_ingest.sql.

CREATE OR REPLACE VIEW division AS
SELECT code, name, level, parent, kind FROM hub_divisions;

CREATE OR REPLACE VIEW person AS
SELECT p.person_code, p.id_number, p.id_type, p.name, p.sex, p.birth_date, p.ethnicity,
       p.marital_status, p.township_code, t.name AS township_name, p.village_code,
       v.name AS village_name, v.kind AS village_kind, p.address, p.phone, p.alive, p.death_date,
       p.updated_at
FROM hub_person p
LEFT JOIN hub_divisions t ON t.code = p.township_code
LEFT JOIN hub_divisions v ON v.code = p.village_code;

CREATE OR REPLACE VIEW disability AS
SELECT person_code, category, level, certificate FROM hub_disability;

CREATE OR REPLACE VIEW household AS
SELECT h.household_code, h.kind, h.township_code, t.name AS township_name, h.village_code,
       v.name AS village_name, v.kind AS village_kind, h.head_person_code, h.dibao_category,
       h.household_size, h.covered_count, h.dibao_amount, h.dibao_start, h.active
FROM hub_household h
LEFT JOIN hub_divisions t ON t.code = h.township_code
LEFT JOIN hub_divisions v ON v.code = h.village_code;

CREATE OR REPLACE VIEW membership AS
SELECT household_code, person_code, relation, covered, seq FROM hub_membership;

-- One row per person who is a member of an active 低保 household (the first such household by code).
CREATE OR REPLACE VIEW dibao_member AS
SELECT m.person_code, min(m.household_code) AS household_code, bool_or(m.covered) AS covered
FROM hub_membership m JOIN hub_household h ON h.household_code = m.household_code
WHERE h.kind = '低保家庭' AND h.active
GROUP BY m.person_code;

CREATE OR REPLACE VIEW business AS
SELECT b.business_code, b.uscc, substr(b.uscc, 1, 2) AS uscc_type, b.name, b.operator_name,
       b.address, b.township_code, t.name AS township_name, b.village_code, v.name AS village_name,
       v.kind AS village_kind, b.phone
FROM hub_business b
LEFT JOIN hub_divisions t ON t.code = b.township_code
LEFT JOIN hub_divisions v ON v.code = b.village_code;

-- 周岁 on `ref`: a birthday counts from its day; 29 February births reach it on 1 March in
-- non-leap years (the (month, day) comparison below does exactly that).
CREATE OR REPLACE MACRO age_on(birth, ref) AS
    CASE WHEN birth IS NULL OR ref IS NULL THEN NULL
         ELSE year(ref) - year(birth)
              - CASE WHEN month(ref) * 100 + day(ref) < month(birth) * 100 + day(birth) THEN 1 ELSE 0 END
    END;

-- The one masking rule (departments.md): 前6位 + ******** + 后4位; mobiles 前3 + **** + 后4.
CREATE OR REPLACE MACRO mask_id(x) AS
    CASE WHEN x IS NULL THEN NULL WHEN length(x) < 10 THEN repeat('*', length(x))
         ELSE left(x, 6) || '********' || right(x, 4) END;

CREATE OR REPLACE MACRO mask_mobile(x) AS
    CASE WHEN x IS NULL THEN NULL WHEN length(x) < 7 THEN repeat('*', length(x))
         ELSE left(x, 3) || '****' || right(x, 4) END;

"""Compile the canonical schema into the SQL of the validation pass.

Every field type maps to SQL expressions in three stages over the cleaned batch ``b``
(``<field>`` cleaned text, ``<field>__raw`` as written):

* ``s1``: per-field intermediates (``__code`` of an identifier, ``__p`` prepared date text,
  ``__parts`` phone list, ``__n`` parsed number, ``__v`` code looked up through a join);
* ``s2``: per-field normalised values ``<field>__v`` (NULL when invalid) and details;
* ``s3``: cross-field values ``o_<hub_rows column>`` (the ID wins over sex and birth date, a 低保
  head row takes the head fields, the household key).

A :class:`Check` is one finding code on one field: a boolean condition over ``s3``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.model import Schema, fold
from hub.sqltext import sql_literal
from hub.standards.text import _NOTE_RE

NAME_FIELDS = ("name", "head_name")
DEATH_NOTE = "已故|死亡|去世"


@dataclass(frozen=True)
class Check:
    code: str
    field: str | None  # the field whose column is reported (None: the whole row)
    condition: str
    detail: str = "NULL"
    value: str | None = None  # default: the field's cell as written


@dataclass
class Plan:
    s1: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    s2: list[str] = field(default_factory=list)
    s3: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


def _code_labels(schema: Schema, codelist: str) -> str:
    return "、".join(c.label for c in schema.codelists[codelist].codes)


def _field_rules(plan: Plan, schema: Schema, name: str, epoch_1904: bool, present: bool) -> None:
    spec = schema.fields[name]
    t: str = spec.type
    if not present and t in ("code", "division"):  # no join for a column the sheet does not have
        plan.s1.append(f"NULL::VARCHAR AS {name}__v")
        t = "absent"
    if t == "id_number":
        plan.s1.append(f"hub_id_code({name}, $today) AS {name}__code")
        plan.s2 += [
            f"hub_id_value({name}, {name}__code) AS {name}__v",
            f"hub_id_detail({name}, {name}__code) AS {name}__d",
        ]
        for code in (
            "id-precision-lost",
            "id-format",
            "id-date-invalid",
            "id-checksum",
            "id-legacy-converted",
        ):
            plan.checks.append(Check(code, name, f"{name}__code = '{code}'", f"{name}__d"))
    elif t == "uscc":
        plan.s1.append(f"hub_uscc_code({name}) AS {name}__code")
        plan.s2.append(f"CASE WHEN {name}__code IS NULL THEN {name} END AS {name}__v")
        for code in ("uscc-format", "uscc-checksum"):
            plan.checks.append(Check(code, name, f"{name}__code = '{code}'"))
    elif t == "date":
        plan.s1.append(f"hub_date_prep({name}) AS {name}__p")
        plan.s2 += [
            f"hub_date_value({name}__p, {'true' if epoch_1904 else 'false'}) AS {name}__v",
            f"hub_date_precision({name}__p) AS {name}__prec",
        ]
        plan.checks.append(Check("date-invalid", name, f"{name} IS NOT NULL AND {name}__v IS NULL"))
    elif t == "code":
        assert spec.codelist is not None
        alias = f"cl_{name}"
        plan.joins.append(
            f"LEFT JOIN hub_v_codes AS {alias} ON {alias}.list = {sql_literal(spec.codelist)} AND {alias}.spelling = hub_fold(b.{name})"
        )
        plan.s1.append(f"{alias}.code AS {name}__v")
        plan.s2.append(f"{name}__v AS {name}__c")
        labels = sql_literal(_code_labels(schema, spec.codelist))
        plan.checks.append(Check("code-unknown", name, f"{name} IS NOT NULL AND {name}__v IS NULL", labels))
    elif t == "absent":
        pass
    elif t == "division":
        plan.joins.append(f"LEFT JOIN hub_v_villages AS vx_{name} ON vx_{name}.key = hub_fold(b.{name})")
        plan.joins.append(
            f"LEFT JOIN hub_v_villages AS vs_{name} ON vs_{name}.key = '~' || hub_strip_village(hub_fold(b.{name}))"
        )
        plan.s1.append(f"coalesce(vx_{name}.code, vs_{name}.code) AS {name}__v")
        plan.checks.append(Check("village-unknown", name, f"{name} IS NOT NULL AND {name}__v IS NULL"))
    elif t in ("money", "integer"):
        plan.s1.append(f"hub_number(hub_number_text({name})) AS {name}__n")
        if t == "money":
            plan.s2.append(f"try_cast({name}__n AS DECIMAL(12, 2)) AS {name}__v")
        else:
            plan.s2.append(
                f"CASE WHEN {name}__n = floor({name}__n) THEN try_cast({name}__n AS INTEGER) END AS {name}__v"
            )
        plan.checks.append(Check("number-invalid", name, f"{name} IS NOT NULL AND {name}__v IS NULL"))
    elif t == "phone":
        plan.s1.append(f"hub_phone_parts({name}) AS {name}__parts")
        plan.s2 += [
            f"nullif(array_to_string({name}__parts, ';'), '') AS {name}__v",
            f"hub_phone_valid({name}__parts) AS {name}__ok",
        ]
        plan.checks.append(Check("phone-invalid", name, f"{name} IS NOT NULL AND NOT {name}__ok"))
    elif name in NAME_FIELDS:
        pat = sql_literal(_NOTE_RE.pattern)
        # the note regex needs a ')': test that first (CASE evaluates its THEN lazily)
        hit = (
            f"CASE WHEN contains({name}, ')') THEN regexp_full_match({name}, {pat}) "
            f"AND trim(regexp_extract({name}, {pat}, 1)) <> '' ELSE false END"
        )
        plan.s1 += [
            f"{hit} AS {name}__hit",
            f"CASE WHEN {hit} THEN trim(regexp_extract({name}, {pat}, 2)) END AS {name}__note",
        ]
        plan.s2.append(
            f"CASE WHEN {name}__hit THEN trim(regexp_extract({name}, {pat}, 1)) ELSE {name} END AS {name}__v"
        )
        plan.checks.append(Check("name-note-removed", name, f"{name}__hit", f"{name}__v"))
    else:  # text, disability_cert
        plan.s2.append(f"{name} AS {name}__v")


def schema_macros(schema: Schema) -> list[str]:
    """Macros that depend on the schema: ``hub_fold`` (= :func:`hub.model.fold` on cleaned text) and
    ``hub_strip_village`` (drops one village suffix of ``divisions.yaml``, the longest)."""
    suffixes = sorted((fold(s) for s in schema.divisions.village_suffixes), key=len, reverse=True)
    return [
        # RE2's \s is [\t\n\f\r ]: the same deletion set as one translate()
        "CREATE OR REPLACE TEMP MACRO hub_fold(s) AS lower(translate(s, ' \t\n\f\r\u200b\u200c\u200d\ufeff:：*＊', ''))",
        f"CREATE OR REPLACE TEMP MACRO hub_strip_village(s) AS regexp_replace(s, {sql_literal('(' + '|'.join(suffixes) + ')$')}, '')",
    ]


def compile_plan(schema: Schema, kind: str, present: set[str], epoch_1904: bool = False) -> Plan:
    """The plan for a sheet of ``kind`` whose data has the fields ``present``. Checks on a field the
    sheet lacks are dropped, except ``required-missing`` (a missing required column fails every row)."""
    plan = Plan()
    for name in schema.fields:
        _field_rules(plan, schema, name, epoch_1904, name in present)
    _cross_rules(plan, schema, kind)
    _fact_rules(plan, schema, kind, present)
    plan.checks = [
        c for c in plan.checks if c.field is None or c.field in present or c.code == "required-missing"
    ]
    return plan


def _fact_rules(plan: Plan, schema: Schema, kind: str, present: set[str]) -> None:
    """A row that claims a fact (fills one of its ``when_any`` fields) must fill its ``required``
    fields; a row that claims nothing is not asked for them (``ledgers.yaml`` ``facts``)."""
    own = set(schema.ledgers[kind].required)
    for fact in schema.facts.values():
        claims = [f for f in fact.when_any if f in present]
        if not claims:
            continue
        claimed = " OR ".join(f"{f} IS NOT NULL" for f in claims)
        for req in fact.required:
            if req not in own:
                plan.checks.append(Check("required-missing", req, f"{req} IS NULL AND ({claimed})"))


def _cross_rules(plan: Plan, schema: Schema, kind: str) -> None:
    sex_labels = schema.codelists["sex"]
    is_head = (
        "(id_number IS NULL AND name IS NULL AND (head_name IS NOT NULL OR head_id_number IS NOT NULL))"
        if kind == "dibao"
        else "false"
    )
    note_dead = f"coalesce(regexp_matches(name__note, '{DEATH_NOTE}'), false)"
    plan.s3 += [
        f"{is_head} AS o_is_head",
        f"CASE WHEN {is_head} THEN head_id_number__v ELSE id_number__v END AS o_id_number",
        f"CASE WHEN {is_head} THEN head_name__v ELSE name__v END AS o_name",
        f"CASE WHEN {is_head} THEN '02' ELSE relation__v END AS o_relation",
        f"CASE WHEN {note_dead} THEN '2' ELSE person_status__v END AS o_person_status",
        "hub_id_birth(id_number__v) AS o_id_birth",
    ]
    for req in schema.ledgers[kind].required:
        cond = f"{req} IS NULL"
        if kind == "dibao" and req in ("id_number", "name"):
            cond = f"(CASE WHEN o_is_head THEN head_{req} ELSE {req} END) IS NULL"
        plan.checks.append(Check("required-missing", req, cond))
    male, female = sex_labels.label_of("1"), sex_labels.label_of("2")
    id_sex = "hub_id_sex(id_number__v)"
    plan.checks += [
        Check(
            "sex-id-mismatch",
            "sex",
            f"sex__v IS NOT NULL AND id_number__v IS NOT NULL AND sex__v <> {id_sex}",
            f"CASE {id_sex} WHEN '1' THEN {sql_literal(male)} ELSE {sql_literal(female)} END",
        ),
        Check(
            "birthdate-id-mismatch",
            "birth_date",
            "birth_date__v IS NOT NULL AND o_id_birth IS NOT NULL AND CASE WHEN birth_date__prec = 'month' "
            "THEN date_trunc('month', birth_date__v) <> date_trunc('month', o_id_birth) ELSE birth_date__v <> o_id_birth END",
            "strftime(o_id_birth, '%Y-%m-%d')",
        ),
        Check("age-implausible", "id_number", "o_id_birth IS NOT NULL AND hub_age(o_id_birth, $today) > 110"),
        Check(
            "age-implausible",
            "birth_date",
            "o_id_birth IS NULL AND birth_date__v IS NOT NULL AND hub_age(birth_date__v, $today) > 110",
        ),
    ]
    parts = [
        (
            "id_number__v IS NOT NULL AND substr(disability_cert, 1, 18) <> id_number__v",
            "前18位与身份证号码不一致",
        ),
        (
            "disability_category__v IS NOT NULL AND substr(disability_cert, 19, 1) <> disability_category__v",
            "第19位与残疾类别不一致",
        ),
        (
            "disability_level__v IS NOT NULL AND substr(disability_cert, 20, 1) <> disability_level__v",
            "第20位与残疾等级不一致",
        ),
    ]
    detail = (
        "concat_ws('，', " + ", ".join(f"CASE WHEN {c} THEN {sql_literal(t)} END" for c, t in parts) + ")"
    )
    plan.checks.append(
        Check(
            "cert-mismatch",
            "disability_cert",
            "length(disability_cert) = 20 AND (" + " OR ".join(c for c, _ in parts) + ")",
            detail,
        )
    )
    plan.checks.append(
        Check("duplicate-row", None, "o_dup_of IS NOT NULL", "CAST(o_dup_of AS VARCHAR)", "NULL")
    )

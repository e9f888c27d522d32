"""The validation pass: one set-based SQL statement over the cleaned batch, then two reads."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from hub.model import Schema, fold
from hub.sqltext import sql_literal
from hub.validate.batch import clean_batch, present_fields
from hub.validate.rules import Check, Plan, compile_plan, schema_macros
from hub.validate.sql import macros

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pyarrow as pa

    from hub.ingest.types import StagedSheet
    from hub.store.db import Database
    from hub.validate import Place

ROW_EXCLUDE = ("submission_id",)
SPECIAL = {
    "id_number": "o_id_number",
    "name": "o_name",
    "relation": "o_relation",
    "person_status": "o_person_status",
    "id_type": "hub_id_type(o_id_number)",
    "sex": "coalesce(hub_id_sex(o_id_number), sex__v)",
    "birth_date": "coalesce(hub_id_birth(o_id_number), birth_date__v)",
    "birth_precision": "CASE WHEN o_id_number IS NOT NULL THEN 'day' WHEN birth_date__v IS NOT NULL THEN birth_date__prec END",
    "village_code": "village__v",
    "covered": "covered__v = '1'",
}


@dataclass
class Run:
    """A materialised validation table ``table`` (dropped by :meth:`close`) and its plan."""

    db: Database
    plan: Plan
    table: str
    names: dict[str, str]
    sheet: StagedSheet
    schema: Schema
    today: date
    #: the ``hub_rows`` columns (name, SQL type) the pass produces
    columns: list[tuple[str, str]]
    #: check index → the stored column holding its finding value (``NULL`` when it has none)
    values: dict[int, str] = field(default_factory=dict)

    def close(self) -> None:
        self.db.execute(f"DROP TABLE IF EXISTS {self.table}")
        for name in self.names.values():
            self.db.unregister(name)


def _store_villages(db: Database, township: str) -> list[tuple[str, str]]:
    """(code, name) of the township's villages, as the store holds them."""
    return [
        (str(code), str(name))
        for code, name in db.rows(
            "SELECT code, name FROM hub_divisions WHERE level = 'village' AND substr(code, 1, 9) = ?",
            [township[:9]],
        )
    ]


def _lookup_tables(schema: Schema, villages: Sequence[tuple[str, str]]) -> tuple[pa.Table, pa.Table]:
    import pyarrow as pa

    lists, spellings, codes = [], [], []
    for name, cl in schema.codelists.items():
        for spelling, code in cl.lookup().items():
            lists.append(name)
            spellings.append(spelling)
            codes.append(code)
    code_table = pa.table({"list": lists, "spelling": spellings, "code": codes})
    suffix = re.compile(
        "("
        + "|".join(sorted((fold(s) for s in schema.divisions.village_suffixes), key=len, reverse=True))
        + ")$"
    )
    keys: dict[str, set[str]] = {}
    for code, name in villages:  # a few hundred divisions, not data rows
        keys.setdefault(code, set()).add(code)
        keys.setdefault(fold(name), set()).add(code)
        stripped = suffix.sub("", fold(name))
        if stripped:
            keys.setdefault("~" + stripped, set()).add(code)
    unique = {k: next(iter(v)) for k, v in keys.items() if len(v) == 1}
    village_table = pa.table(
        {"key": pa.array(list(unique), pa.string()), "code": pa.array(list(unique.values()), pa.string())}
    )
    return code_table, village_table


def _row_exprs(
    columns: Sequence[tuple[str, str]], sheet: StagedSheet, kind: str
) -> list[tuple[str, str, str]]:
    """(hub_rows column, SQL over the s3 stage, SQL type) for every hub_rows column but the excluded."""
    out = []
    for col, typ in columns:
        if col in ROW_EXCLUDE or col == "accepted":
            expr = "NULL"
        elif col == "sheet":
            expr = sql_literal(sheet.sheet)
        elif col == "row_no":
            expr = "_row"
        elif col == "township_code":
            expr = sql_literal(sheet.township_code)
        elif col == "kind":
            expr = sql_literal(kind)
        elif col == "household_key":
            by_head = (
                "WHEN head_id_number__v IS NOT NULL THEN 'id:' || head_id_number__v "
                "WHEN head_name__v IS NOT NULL THEN 'name:' || head_name__v || '|' || coalesce(village__v, village, '') "
                if kind == "dibao"
                else ""
            )
            expr = f"CASE WHEN household_no__v IS NOT NULL THEN 'no:' || household_no__v {by_head}END"
        else:
            expr = SPECIAL.get(col, f"{col}__v")
        if col not in ROW_EXCLUDE:
            out.append((col, expr, typ))
    return out


def _deferred(check: Check) -> bool:
    """A check over the duplicate window's result, evaluated when the findings are read."""
    return "o_dup_of" in check.condition or "o_dup_of" in check.detail


def _value_expr(check: Check) -> str:
    return check.value or f"{check.field}__raw"


def start(
    db: Database,
    sheet: StagedSheet,
    schema: Schema,
    today: date,
    place: Place | None = None,
) -> Run:
    """Clean, register and run the SQL pass into a temp table; the caller must ``close()`` the run.
    ``place``: what the pass reads of the store (the ``hub_rows`` columns, the villages), given when
    ``db`` is not the store (a DuckDB of the reader's own, :func:`hub.validate.validate_file`).

    The table is narrow: ``_row``, the raw cells (finding values), ``out_<hub_rows column>``, per
    check ``i`` a flag ``f<i>`` (and ``d<i>`` / ``v<i>`` when its detail / value is computed), and
    ``o_dup_of``. Duplicates are found exactly, but the window only runs over rows whose hash of the
    output columns occurs more than once (equal rows have equal hashes)."""
    kind = sheet.kind
    present = set(present_fields(sheet, schema))
    plan = compile_plan(schema, kind, present, sheet.epoch_1904)
    for statement in [*macros(), *schema_macros(schema)]:
        db.execute(statement)
    tag = uuid.uuid4().hex[:12]
    names = {k: f"hub_v_{k}_{tag}" for k in ("batch", "codes", "villages")}
    if place is None:
        columns, villages = db.columns("hub_rows"), _store_villages(db, sheet.township_code)
    else:
        columns, villages = list(place.row_columns), list(place.villages_of(sheet.township_code))
    code_table, village_table = _lookup_tables(schema, villages)
    db.register(names["batch"], clean_batch(sheet, schema, with_raw=True, all_fields=False))
    db.register(names["codes"], code_table)
    db.register(names["villages"], village_table)
    absent = [f"NULL::VARCHAR AS {f}, NULL::VARCHAR AS {f}__raw" for f in schema.fields if f not in present]
    joins = (
        " ".join(plan.joins)
        .replace("hub_v_codes", names["codes"])
        .replace("hub_v_villages", names["villages"])
    )
    rows = _row_exprs(columns, sheet, kind)
    outs = [c for c, _, _ in rows if c not in ("sheet", "row_no", "township_code", "kind")]
    values: dict[int, str] = {}
    flags, keep = [], ["_row", *(f"{f}__raw" for f in schema.fields if f in present)]
    keep += [f"out_{c}" for c, _, _ in rows]
    for i, check in enumerate(plan.checks):
        if _deferred(check):
            continue
        flags.append(f"coalesce({check.condition}, false) AS f{i}")
        keep.append(f"f{i}")
        if check.detail != "NULL":
            keep.append(f"CASE WHEN f{i} THEN {check.detail} END AS d{i}")
        value = _value_expr(check)
        if value == "NULL" or value in keep:
            values[i] = value
        else:
            keep.append(f"CASE WHEN f{i} THEN {value} END AS v{i}")
            values[i] = f"v{i}"
    table = f"hub_v_t_{tag}"
    out_cols = ", ".join("out_" + c for c in outs)
    query = (
        f"CREATE TEMP TABLE {table} AS WITH "
        f"b AS (SELECT *{''.join(', ' + a for a in absent)} FROM {names['batch']}), "
        f"s1 AS (SELECT b.*, {', '.join(plan.s1)} FROM b {joins}), "
        f"s2 AS (SELECT *, {', '.join(plan.s2)} FROM s1), "
        f"s3 AS (SELECT *, {', '.join(plan.s3)} FROM s2), "
        f"s4 AS (SELECT *, {', '.join(f'CAST({e} AS {t}) AS out_{c}' for c, e, t in rows)} FROM s3), "
        f"s5 AS (SELECT *, {', '.join(flags) or 'true AS f_none'} FROM s4) "
        f"SELECT {', '.join(keep)}, hash({out_cols}) AS o_hash, NULL::INTEGER AS o_dup_of FROM s5"
    ).replace("$today", "DATE " + sql_literal(today.isoformat()))
    dups = (
        f"UPDATE {table} SET o_dup_of = d.first FROM ("
        f"SELECT _row, min(_row) OVER (PARTITION BY {out_cols}) AS first FROM {table} "
        f"WHERE o_hash IN (SELECT o_hash FROM {table} GROUP BY o_hash HAVING count(*) > 1)"
        f") AS d WHERE {table}._row = d._row AND d.first < d._row"
    )
    run = Run(db, plan, table, names, sheet, schema, today, columns, values)
    try:
        db.execute(query)
        db.execute(dups)
    except BaseException:
        run.close()
        raise
    return run


def _check_sql(run: Run, i: int, check: Check) -> str:
    spec = run.schema.findings[check.code]
    column = None
    if check.field is not None:
        column = run.sheet.header_of(check.field) or run.schema.fields[check.field].label
    if _deferred(check):
        cond = f"coalesce({check.condition}, false)".replace(
            "$today", "DATE " + sql_literal(run.today.isoformat())
        )
        value, detail = _value_expr(check), check.detail
    else:
        cond, value = f"f{i}", run.values[i]
        detail = "NULL" if check.detail == "NULL" else f"d{i}"
    template = spec.message.replace("{column}", column or "")
    message = f"replace(replace({sql_literal(template)}, '{{detail}}', coalesce({detail}, '')), '{{value}}', coalesce({value}, ''))"
    return (
        f"SELECT {sql_literal(run.sheet.sheet)} AS sheet, _row AS row_no, {sql_literal(column)} AS column_name, {sql_literal(check.field)} AS field, "
        f"{value} AS value, {sql_literal(check.code)} AS code, {sql_literal(spec.severity)} AS severity, {message} AS message, "
        f"{i} AS _ord FROM {run.table} WHERE {cond}"
    )


def findings_sql(run: Run) -> str:
    return " UNION ALL ".join(_check_sql(run, i, c) for i, c in enumerate(run.plan.checks))


def error_condition(run: Run) -> str:
    conds = []
    for i, c in enumerate(run.plan.checks):
        if run.schema.findings[c.code].severity == "error":
            conds.append(f"coalesce({c.condition}, false)" if _deferred(c) else f"f{i}")
    return (" OR ".join(conds) or "false").replace("$today", "DATE " + sql_literal(run.today.isoformat()))


def rows_sql(run: Run) -> str:
    cols = []
    for col, _typ in run.columns:
        if col in ROW_EXCLUDE:
            continue
        cols.append(
            f"NOT ({error_condition(run)}) AS accepted" if col == "accepted" else f"out_{col} AS {col}"
        )
    return f"SELECT {', '.join(cols)} FROM {run.table} ORDER BY _row"

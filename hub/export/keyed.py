"""One set of report queries for every township: the township a key, not a parameter.

A township report compiles once with the township as a parameter (``ctx.township_code`` bound per
run, :mod:`hub.export.context`). On an engine where a query costs more than its rows (Spark: a job
to plan and schedule, ``EngineCapabilities.batch_townships``), running each sheet's 8–12 queries
once per township multiplies that cost by the townships. Here the same parts are built keyed
(:func:`keyed_sheet`): ``ctx`` holds one row per township, every CTE carries the township as
``_twp`` (windows partitioned, aggregates grouped by it), and the checks, 合计, record count, held
blocks, untranslated codes (one query for every code list) and data rows come back once for all
townships; :func:`build_townships` then hands each township its own document, as
:func:`hub.export.run.build` does for one. The files are the same as the per-township run's, cell
by cell (``tests/export/test_keyed.py`` runs every golden case both ways).

The data rows of all townships come out of one query per sheet: in the store, split per township
into Bodies; on an engine whose executors write the files (``writes_files``: Spark), spilled as
Parquet one folder per township, each township's file then written where its rows are
(:mod:`hub.export.remote`). A province would run this per county (the county a key as well).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from typing import Any

from sqlglot import exp

from hub.errors import ExportError
from hub.export.body import Body
from hub.export.compile import CompiledReport
from hub.export.context import context, template_values
from hub.export.document import Document, SheetData
from hub.export.pipelines import CompiledSheet, grouped, listed, with_ctes
from hub.export.plan import Runner
from hub.export.remote import SpilledDocument, SpilledRows, SpilledSheet
from hub.export.spec import Spec
from hub.export.templates import fill
from hub.store.db import Database
from hub.store.engine import QueryEngine

TOWNSHIPS = "_hub_t"  # the VALUES relation of the townships in a keyed ctx


@dataclasses.dataclass
class KeyedSheet:
    sheet: CompiledSheet  # its queries return ``_twp`` (a row per township, or per row of each)
    untranslated: exp.Query | None  # (_twp, _i, value): _i indexes ``codes``
    codes: list[tuple[str, str]]  # (column key, code list) of each untranslated-code check


def keyed_sheet(cs: CompiledSheet, townships: list[tuple[str, str]]) -> KeyedSheet:
    """``cs`` built again for the ``townships`` ((code, name)) at once."""
    p = cs.parts
    assert p is not None, "a compiled sheet keeps its parts"
    values = exp.values(townships, alias=TOWNSHIPS, columns=["township_code", "township_name"])

    def unbind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            return exp.column(node.name, TOWNSHIPS)
        return node

    ctes = [(n, _from(q.copy().transform(unbind), values) if n == "ctx" else q) for n, q in p.ctes]
    kp = dataclasses.replace(p, ctes=ctes, keyed=True)
    sheet = grouped(kp) if p.sheet.group_by else listed(kp)
    branches = []
    for i, (_, _, query) in enumerate(p.untranslated):
        q = query.copy()
        q.set("with_", None)
        twp = exp.alias_(exp.column("township_code", "ctx"), "_twp")
        q.set("expressions", [twp, exp.alias_(exp.Literal.number(i), "_i"), *q.expressions])
        branches.append(q)
    untranslated = None
    if branches:
        union: exp.Query = branches[0]
        for b in branches[1:]:
            union = union.union(b, distinct=False)
        ordered = exp.select("*").from_(union.subquery("u")).order_by("_twp", "_i", "value")
        untranslated = with_ctes(ctes, ordered)
    return KeyedSheet(sheet, untranslated, [(k, lst) for k, lst, _ in p.untranslated])


def check_error(
    compiled: CompiledReport, cs: CompiledSheet, township: str | None, result: Any
) -> ExportError | None:
    """The refusal of a file whose checks failed (``result``: the failing counts, in check order)."""
    failed = [f"{name}（{n}行不符）" for name, n in zip(cs.check_names, result, strict=False) if n]
    if not failed:
        return None
    return ExportError(
        f"{compiled.spec.id}: 审核未通过：{'；'.join(failed)}",
        file=compiled.file,
        sheet=cs.sheet.name,
        details={"report": compiled.spec.id, "township": township, "checks": failed},
    )


def headers(cs: CompiledSheet) -> dict[str, str]:
    return {c.key: "/".join(c.header) for c in cs.sheet.columns}


def held_problem(spec_id: str, where: str, cs: CompiledSheet, held: dict[str, Any]) -> str:
    heads = headers(cs)
    who = "，".join(f"{heads[k]} {v}" for k, v in held.items() if not k.startswith("_") and v is not None)
    return f"{spec_id} {where} {cs.sheet.name}：{who} 未报送（{held['_check']} 不成立），请核实后重新报送"


def untranslated_problem(spec_id: str, cs: CompiledSheet, key: str, codelist: str, value: Any) -> str:
    return (
        f"{spec_id} {cs.sheet.name}“{headers(cs)[key]}”列：代码 '{value}' 在代码表 {codelist} 中没有对应文字"
    )


Built = tuple[Document | SpilledDocument, int, list[str]]


def build_townships(
    db: Database,
    compiled: CompiledReport,
    ref_date: dt.date,
    townships: list[str],
    names: dict[str, str],
    county: str,
    engine: QueryEngine,
) -> dict[str, Built | ExportError]:
    """Every township's (document, records, problems), or the ExportError refusing its file, from one
    set of queries per sheet (:func:`keyed_sheet`). The documents' rows are in the store: close them."""
    spec = compiled.spec
    pairs = [(t, names.get(t, t)) for t in townships]
    sheets: dict[str, list[Any]] = {t: [] for t in townships}  # SheetData, or SpilledSheet
    problems: dict[str, list[str]] = {t: [] for t in townships}
    records: dict[str, int] = dict.fromkeys(townships, 0)
    refused: dict[str, ExportError] = {}
    values = {t: template_values(context(spec, ref_date, t, n, county)) for t, n in pairs}
    try:
        for i, cs in enumerate(compiled.sheets):
            ks = keyed_sheet(cs, pairs)
            run = Runner(db, {}, {}, engine)
            extra = [ks.untranslated] if ks.untranslated is not None else []
            run.prepare(ks.sheet, i, extra)
            try:
                for twp, *result in run.rows(ks.sheet.checks):
                    error = check_error(compiled, cs, twp, result)
                    if error is not None and twp not in refused:
                        refused[twp] = error
                live = [t for t in townships if t not in refused]
                if ks.sheet.held is not None:
                    for held in run.dicts(ks.sheet.held):
                        if held["_twp"] in problems:
                            where = names.get(held["_twp"], "全县")
                            problems[held["_twp"]].append(held_problem(spec.id, where, cs, held))
                if ks.untranslated is not None:
                    for twp, k, value in run.rows(ks.untranslated):
                        key, codelist = ks.codes[int(k)]
                        problems[twp].append(untranslated_problem(spec.id, cs, key, codelist, value))
                totals: dict[str, dict[str, Any]] = {}
                if ks.sheet.total is not None:
                    totals = {d.pop("_twp"): d for d in run.dicts(ks.sheet.total)}
                if i == 0:
                    for row in run.dicts(ks.sheet.records):
                        records[row["_twp"]] = int(row["_records"] or 0)
                for t, rows in _rows(db, run, ks, live, engine):
                    v = values[t]
                    text = (fill(cs.sheet.title, v), "　　".join(fill(m, v) for m in cs.sheet.meta))
                    footer = [fill(f, v) for f in cs.sheet.footer]
                    total = totals.get(t) if ks.sheet.total is not None else None
                    sheets[t].append(
                        SpilledSheet(cs.sheet, *text, footer, rows, total)
                        if isinstance(rows, SpilledRows)
                        else SheetData(cs.sheet, *text, footer, rows, total)
                    )
            finally:
                run.drop()
    except BaseException:
        for t in townships:
            _document(spec, sheets[t]).close()
        raise
    created = dt.datetime.combine(ref_date, dt.time())
    out: dict[str, Built | ExportError] = {}
    for t in townships:
        if t in refused:
            _document(spec, sheets[t]).close()
            out[t] = refused[t]
        else:
            out[t] = (_document(spec, sheets[t], created), records[t], problems[t])
    return out


def _rows(
    db: Database, run: Runner, ks: KeyedSheet, live: list[str], engine: QueryEngine
) -> Iterator[tuple[str, Body | SpilledRows]]:
    """Each live township's data rows of the sheet: spilled as Parquet where the engine's executors
    write the files (``writes_files``, :mod:`hub.export.remote`), else a Body in the store."""
    if engine.capabilities.writes_files:
        folder, schema = run.spill(ks.sheet.data, "_twp")
        for other in set(folder.glob("_twp=*")) - {folder / f"_twp={t}" for t in live}:
            shutil.rmtree(other, ignore_errors=True)  # a refused township's rows
        if not live:
            shutil.rmtree(folder, ignore_errors=True)
        for t in live:
            yield t, SpilledRows(str(folder / f"_twp={t}"), schema)
        return
    with run.in_store(ks.sheet.data) as (sql, params):
        for t in live:
            yield (
                t,
                Body(
                    db,
                    f"SELECT * EXCLUDE (_twp) FROM ({sql}) AS k WHERE _twp = $_hub_twp",
                    {**(params or {}), "_hub_twp": t},
                ),
            )


def _document(
    spec: Spec, sheets: list[Any], created: dt.datetime = dt.datetime(2000, 1, 1)
) -> Document | SpilledDocument:
    if sheets and all(isinstance(s, SpilledSheet) for s in sheets):
        return SpilledDocument(spec, sheets, created)
    return Document(spec, sheets, created)


def _from(select: exp.Expr, source: exp.Expr) -> exp.Query:
    assert isinstance(select, exp.Select)
    return select.from_(source)

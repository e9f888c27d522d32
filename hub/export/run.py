"""Fan-out: every report, per township, from the canonical views.

``export_reports`` compiles each spec for each township, runs the report's checks BEFORE writing (a
failed check refuses that one file: the result has ``written=False`` and a problem naming the report,
the township and the check; every other report and township still goes out), lists values without a
code translation as problems, and renders through the writer registry. On an engine whose queries
cost more than their rows (``EngineCapabilities.batch_townships``: Spark), a township report's
queries run once for every township (:mod:`hub.export.keyed`) and each township's file is written
from that one result; the embedded store runs them per township, the township a parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import ExportError, SpecError
from hub.export import write_csv, write_xlsx  # noqa: F401  (register the built-in writers)
from hub.export.catalog import compile_text, spec_files
from hub.export.compile import CompiledReport
from hub.export.context import bound_params, context, template_values
from hub.export.document import Document, SheetData, write_document
from hub.export.keyed import Built, build_townships, check_error, held_problem, untranslated_problem
from hub.export.plan import Runner
from hub.export.remote import SpilledDocument, write_files
from hub.export.templates import fill
from hub.store.db import Database
from hub.store.engine import QueryEngine, StoreEngine
from hub.timings import span


@dataclass
class ExportResult:
    report: str
    department: str
    township: str | None  # 9-digit code, None for a county-wide report
    township_name: str
    path: Path | None  # None when the report's checks refused the file
    records: int
    cells: int
    problems: list[str] = field(default_factory=list)
    written: bool = True
    model_cells: int = 0  # of `cells`, those served from the canonical model


@dataclass(frozen=True)
class ReportInfo:
    id: str
    department: str
    title: str
    format: str
    scope: str
    period: str


def _divisions(db: Database) -> tuple[dict[str, str], str]:
    """(division code → name, the county's name)."""
    names = dict(db.rows("SELECT code, name FROM division"))
    county = next(
        (n for c, n in db.rows("SELECT code, name FROM division WHERE level = 'county' ORDER BY code")), ""
    )
    return names, county


def _compile(
    db: Database, text: str, file: str, ref_date: dt.date, township: str | None, masked: bool = False
) -> CompiledReport:
    names, county = _divisions(db)
    compiled, problems = compile_text(
        text,
        file,
        db,
        report_date=ref_date,
        township=township,
        township_name=names.get(township or "", township or ""),
        county_name=county,
        masked=masked,
    )
    if compiled is None:
        raise SpecError(
            f"{file}: 映射规格有 {len(problems)} 个问题", file=file, problems=[str(p) for p in problems]
        )
    return compiled


def _spec_text(report_id: str) -> tuple[str, str]:
    for path in spec_files():
        if path.stem == report_id:
            return path.read_text(encoding="utf-8"), f"mappings/{path.name}"
    raise ExportError(f"未知报表 {report_id}", hint=f"可选：{', '.join(p.stem for p in spec_files())}")


def admitted(db: Database, ids: list[str], *, explicit: bool) -> list[str]:
    """The reports of ``ids`` in the registry (报表清单, docs/admission.md). A report asked for by
    name that is not registered is refused; of all specs, the unregistered are left out."""
    from hub.admission import registered_ids

    try:
        registered = registered_ids(db)
    except Exception as exc:  # a read-only store made before admission existed: the setup registry
        if not db.is_engine_error(exc):
            raise
        from hub.admission import _base_registry

        registered = set(_base_registry())
    known = {p.stem for p in spec_files()}  # an unknown id is refused by _spec_text, naming the known
    missing = [i for i in ids if i in known and i not in registered]
    if explicit and missing:
        raise ExportError(
            f"报表 {'、'.join(missing)} 未列入报表清单，不能导出。",
            hint="新报表须经报表准入（hub admission submit / decide）后方可导出。",
        )
    return [i for i in ids if i not in missing]


def compile_report(db: Database, report_id: str, ref_date: dt.date) -> tuple[CompiledReport, str]:
    """A shipped spec compiled for every township (the township is a parameter), and its text."""
    text, file = _spec_text(report_id)
    return _compile(db, text, file, ref_date, None), text


def report_filename(
    spec: Any, township: str | None, name: str, ref_date: dt.date, masked: bool = False
) -> str:
    """The file name `hub export` gives a report: id, township code and name, period, format."""
    period = (
        f"{ref_date:%Y-%m}"
        if spec.period in ("monthly", "quarterly")
        else (f"{ref_date:%Y}" if spec.period == "annual" else f"{ref_date:%Y-%m-%d}")
    )
    stem = "_".join(p for p in (spec.id, township or "", name, period) if p)
    suffix = "_脱敏" if masked or spec.masked else ""
    return f"{stem}{suffix}.{spec.output.format}"


def townships_of(db: Database, compiled: CompiledReport, engine: QueryEngine | None = None) -> list[str]:
    """The townships with data for a compiled report."""
    run = engine or StoreEngine(db)
    rows = run.rows(run.render(compiled.sheets[0].townships), bound_params(None, ""))
    return sorted(str(t) for (t,) in rows if t is not None)


def build(
    db: Database,
    compiled: CompiledReport,
    ref_date: dt.date,
    township: str | None,
    cache: dict[Any, Any] | None = None,
    engine: QueryEngine | None = None,
) -> tuple[Document, int, list[str]]:
    """Run checks, then the data: (document, records, problems). Raises ExportError on a failed check."""
    spec = compiled.spec
    names, county = _divisions(db)
    township_name = names.get(township or "", township or "")
    values = template_values(context(spec, ref_date, township, township_name, county))
    run = Runner(db, bound_params(township, township_name), {} if cache is None else cache, engine)
    sheets: list[SheetData] = []
    problems: list[str] = []
    records = 0
    try:
        for i, cs in enumerate(compiled.sheets):
            run.prepare(cs, i)
            error = check_error(compiled, cs, township, run.rows(cs.checks)[0])
            if error is not None:
                raise error
            if cs.held is not None:
                where = names.get(township or "", "全县")
                problems += [held_problem(spec.id, where, cs, held) for held in run.dicts(cs.held)]
            for key, codelist, query in cs.untranslated:
                for (value,) in run.rows(query):
                    problems.append(untranslated_problem(spec.id, cs, key, codelist, value))
            total = run.dicts(cs.total)[0] if cs.total is not None else None
            if i == 0:
                records = int(run.rows(cs.records)[0][0] or 0)
            sheets.append(
                SheetData(
                    cs.sheet,
                    fill(cs.sheet.title, values),
                    "　　".join(fill(m, values) for m in cs.sheet.meta),
                    [fill(f, values) for f in cs.sheet.footer],
                    run.body(cs.data),
                    total,
                )
            )
            run.drop()
    except BaseException:
        run.drop()
        Document(spec, sheets).close()  # the rows already in the store
        raise
    created = dt.datetime.combine(ref_date, dt.time())
    return Document(spec, sheets, created), records, problems


def export_reports(
    db: Database,
    *,
    reports: list[str] | None = None,
    townships: list[str] | None = None,
    ref_date: dt.date,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
    masked: bool = False,
    engine: QueryEngine | None = None,
) -> list[ExportResult]:
    """One file per report and township that has data (county-wide reports: one file); the
    queries run on ``engine`` (default: the store itself), the files are written from the store."""
    ids = admitted(db, reports or [p.stem for p in spec_files()], explicit=bool(reports))
    results: list[ExportResult] = []
    for report_id in ids:
        text, file = _spec_text(report_id)
        compiled = _compile(db, text, file, ref_date, None, masked)  # once: the township is a parameter
        spec = compiled.spec
        cache: dict[Any, Any] = {}
        targets: list[str | None] = (
            [None]
            if spec.scope == "county"
            else [t for t in townships_of(db, compiled, engine) if townships is None or t in townships]
        )
        names, county = _divisions(db)
        built: dict[str | None, Built | ExportError] = {}
        if engine is not None and engine.capabilities.batch_townships and spec.scope != "county" and targets:
            # one set of queries per sheet for every township (hub.export.keyed)
            with span(f"export.queries.{spec.id}"):
                built.update(
                    build_townships(db, compiled, ref_date, [str(t) for t in targets], names, county, engine)
                )
        try:
            _write_all(
                db, compiled, targets, built, cache, engine, ref_date, out_dir, masked, progress, results
            )
        finally:
            for outcome in built.values():  # the documents not written (an error on the way)
                if not isinstance(outcome, ExportError):
                    outcome[0].close()
    return results


def _write_all(
    db: Database,
    compiled: CompiledReport,
    targets: list[str | None],
    built: dict[str | None, Built | ExportError],
    cache: dict[Any, Any],
    engine: QueryEngine | None,
    ref_date: dt.date,
    out_dir: Path,
    masked: bool,
    progress: Callable[[str], None] | None,
    results: list[ExportResult],
) -> None:
    """Each township's file: its document built already (``built``, taken out as it is written) or
    built now, alone. Documents whose rows were spilled (an engine whose executors write the files)
    are written together at the end, one task each (:mod:`hub.export.remote`)."""
    spec = compiled.spec
    names, _ = _divisions(db)
    spilled: list[tuple[ExportResult, SpilledDocument, Path, str]] = []  # written by the executors
    try:
        for township in targets:
            name = names.get(township or "", "")
            where = f"{spec.id} {name or '全县'}"
            result = ExportResult(spec.id, spec.department, township, name, None, 0, 0, written=False)
            results.append(result)
            try:
                outcome = built.pop(township) if township in built else None
                if isinstance(outcome, ExportError):
                    raise outcome
                if outcome is None:
                    with span(f"export.queries.{spec.id}"):
                        outcome = build(db, compiled, ref_date, township, cache, engine)
                doc, result.records, result.problems = outcome
            except ExportError as exc:  # this file is refused; every other report still goes out
                result.problems = [f"{where}：未写出，{exc.message}"]
                if progress:
                    progress(f"{where}：未写出（{exc.message}）")
                continue
            path = out_dir / spec.id / report_filename(spec, township, name, ref_date, masked)
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(doc, SpilledDocument):
                spilled.append((result, doc, path, where))
                continue
            try:
                with span("export.write"):
                    result.cells, result.model_cells = write_document(doc, path, spec.output.format)
            finally:
                doc.close()
            _written(result, path, where, progress)
        if spilled:  # every township's file at once, one task each (hub.export.remote)
            assert engine is not None, "only an engine's keyed queries spill their rows"
            with span("export.write"):
                figures = write_files(
                    [(doc, str(path), spec.output.format) for _, doc, path, _ in spilled], engine.map_files
                )
            for (result, _, path, where), (cells, model_cells) in zip(spilled, figures, strict=True):
                result.cells, result.model_cells = cells, model_cells
                _written(result, path, where, progress)
    finally:
        for _, doc, _, _ in spilled:
            doc.close()


def _written(result: ExportResult, path: Path, where: str, progress: Callable[[str], None] | None) -> None:
    result.path, result.written = path, True
    if progress:
        progress(f"{where}：{result.records} 条，{path}")


@dataclass
class ReportRows:
    """The first sheet of a report as rows (header text → value), its 合计 row apart, and the
    report's one records figure: the distinct entities it covers (the spec's ``records``), the
    same number the written file's export states (never the count of rows, which counts the
    members of a household or the 合计 row)."""

    rows: list[dict[str, object]]
    total: dict[str, object] | None
    total_position: str
    records: int

    def with_total(self) -> list[dict[str, object]]:
        if self.total is None:
            return list(self.rows)
        return [self.total, *self.rows] if self.total_position == "top" else [*self.rows, self.total]


def report_rows(
    db: Database, report_id: str, township: str | None, ref_date: dt.date, spec_text: str | None = None
) -> ReportRows:
    """The first sheet's rows as the department receives them, for a draft ``spec_text`` or the
    shipped spec. Raises SpecError listing every problem of a draft."""
    if spec_text is None:
        admitted(db, [report_id], explicit=True)
    text, file = (spec_text, f"mappings/{report_id}.yaml") if spec_text is not None else _spec_text(report_id)
    compiled = _compile(db, text, file, ref_date, township)
    doc, records, _ = build(db, compiled, ref_date, township)
    try:
        sd = doc.sheets[0]
        data = sd.body.dicts()
    finally:
        doc.close()
    heads = {c.key: "/".join(c.header) for c in sd.sheet.columns}
    rows = [{heads[k]: r[k] for k in heads} for r in data]
    total = None
    if sd.total is not None and sd.sheet.total is not None:
        label = sd.sheet.total.label_column
        total = {heads[k]: (sd.total["_label"] if k == label else sd.total.get(k)) for k in heads}
    position = sd.sheet.total.position if sd.sheet.total is not None else "bottom"
    return ReportRows(rows, total, position, records)


def preview_report(
    db: Database, report_id: str, township: str | None, ref_date: dt.date, spec_text: str | None = None
) -> list[dict[str, object]]:
    """The first sheet's rows as the department receives them (header text → value; 合计 included),
    for a draft ``spec_text`` or the shipped spec. Raises SpecError listing every problem of a draft."""
    return report_rows(db, report_id, township, ref_date, spec_text).with_total()


def list_reports() -> list[ReportInfo]:
    from hub.export.catalog import load_spec_text

    out = []
    for path in spec_files():
        spec, _ = load_spec_text(path.read_text(encoding="utf-8"), f"mappings/{path.name}")
        if spec is not None:
            out.append(
                ReportInfo(spec.id, spec.department, spec.title, spec.output.format, spec.scope, spec.period)
            )
    return out

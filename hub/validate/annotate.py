"""The annotated workbook: the clerk's own file back, with every problem cell coloured and commented.

For ``.xlsx`` / ``.xlsm`` the clerk's workbook is opened in openpyxl's full mode and everything else
(formats, merged cells, formulas, other sheets) is kept as it was. CSV/TSV/TXT and legacy ``.xls``
sources cannot be written back, so an ``.xlsx`` copy of the raw data is streamed with XlsxWriter
instead, through the ingest readers (:func:`hub.ingest.readers.read_sheets`: same encoding detection,
same cell text, same row numbers: the record at line N of a CSV is row N of the copy), every cell
stored as text. Up to :data:`FULL_COPY_ROWS` rows the copy is complete; above that it holds the first
:data:`HEAD_ROWS` rows (title and header) and every row with a problem, each at its own row number: a
million-row CSV cannot be one sheet (Excel stops at 1,048,576 rows) and no clerk scrolls it.

Error cells are filled ``FFC7CE``, warning cells ``FFEB9C``; each gets one openpyxl comment (author
``一表通``) holding all its messages. Row-level findings (``column`` is None, e.g. duplicate-row) mark
the row's first cell. A sheet ``问题汇总`` lists every finding. openpyxl is imported lazily.

No formula comes from the hub (:mod:`hub.safecell`): the cells it writes (the 问题汇总 sheet, which
quotes what the clerk typed, and the raw copy of a CSV/.xls source) are string cells, whatever their
text; comments are plain text. The clerk's own formulas in the clerk's own workbook are the clerk's
and stay as they were, as do the clerk's own cells (openpyxl keeps a string cell a string).

Once its findings are read from the store, a copy depends on nothing but its source file, and writing
it is mostly single-threaded Python (XlsxWriter, openpyxl). :class:`Batch` writes a batch: in this
process when it is small, else in a pool of worker processes, one per core (spawned, not forked: the
parent holds DuckDB's threads), while the caller goes on (``hub run`` merges and exports meanwhile).
As with any spawned pool, a script that drives the hub from Python must guard its entry point with
``if __name__ == "__main__":`` (the ``hub`` command, the web server and the tests do); otherwise the
workers fail to start and the batch is written in the calling process.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.errors import ValidationEngineError

AUTHOR = "一表通"
FILLS = {"error": "FFC7CE", "warning": "FFEB9C"}
SEVERITY_LABEL = {"error": "错误", "warning": "提醒"}
SUMMARY_SHEET = "问题汇总"
SUMMARY_HEADER = ("工作表", "行号", "列", "填写内容", "问题", "严重程度")
OPENPYXL_SUFFIXES = {".xlsx", ".xlsm"}
FULL_COPY_ROWS = 20_000
HEAD_ROWS = 6
# A batch whose sources add up to fewer bytes is written in this process (a worker takes ~0.5 s to
# start; a 4 MB CSV ledger of ~50,000 rows takes about as long to annotate).
PARALLEL_BYTES = 8 << 20
# A single source this large (an .xlsx of ~50,000 rows) is written in a worker process all the same:
# the copy's memory (the file read again, the comments) goes back to the system when it is done,
# instead of staying in the caller's heap (the web server's).
ALONE_BYTES = 2 << 20
#: Rows with a problem marked in one copy (``HUB_ANNOTATE_MAX_ROWS``); past them the copy says how
#: many more there are. A 200,000-row file of one repeated row has a problem on every row: marking
#: them all took 1.9 GB and two minutes, and no clerk reads 200,000 comments.
MAX_MARKED_ROWS = 20_000
_BAD_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _text(value: Any) -> str | None:
    """Cell text safe for openpyxl: illegal control characters removed."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return None if value is None else ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _set_text(cell: Any, value: Any) -> None:
    """Store ``value`` as a string even when it starts with ``=`` (never as a formula; quote-prefixed
    so that editing it in Excel does not make it one either: :func:`hub.safecell.set_text`)."""
    from hub.safecell import set_text

    set_text(cell, None if value is None else str(value))


def _stream_copy(
    source: Path,
    cells: dict[tuple[str, int, int], tuple[str, list[str]]],
    findings: list[dict[str, Any]],
    target: Path,
) -> None:
    """The annotated ``.xlsx`` copy of a CSV or ``.xls`` source: XlsxWriter writes the comments, the
    styles and the 问题汇总 sheet; the rows, every cell as text (filled where it has a problem), are
    rendered in SQL and spliced in (:mod:`hub.sheetxml`)."""
    import xlsxwriter

    from hub.ingest.readers import read_sheets
    from hub.sheetxml import Splice, splice, xf_index
    from hub.store.db import Database

    wb = xlsxwriter.Workbook(
        str(target), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    text = wb.add_format({"num_format": "@"})
    marked = {sev: wb.add_format({"num_format": "@", "bg_color": f"#{rgb}"}) for sev, rgb in FILLS.items()}
    styles = {"text": xf_index(text), **{sev: xf_index(fmt) for sev, fmt in marked.items()}}
    db = Database(None, ddl=False)
    splices = []
    try:
        for index, raw in enumerate(read_sheets(source)):
            ws = wb.add_worksheet(raw.name.translate(_BAD_SHEET_CHARS)[:31] or "Sheet")
            marks = {(row, col): mark for (sheet, row, col), mark in cells.items() if sheet == raw.name}
            for (row, col), (_, messages) in marks.items():
                ws.write_comment(
                    row - 1,
                    col - 1,
                    _text("\n".join(messages)) or "",
                    {"author": AUTHOR, "x_scale": 2.5, "y_scale": 2},
                )
            rows = _rows_xml(db, raw.table, marks, styles)
            if rows is not None:
                splices.append(Splice(f"xl/worksheets/sheet{index + 1}.xml", 1, rows[0], rows[1], rows[2]))
        summary = wb.add_worksheet(SUMMARY_SHEET)
        bold = wb.add_format({"bold": True})
        summary.write_row(0, 0, SUMMARY_HEADER, bold)
        for r, f in enumerate(findings, start=1):
            line: list[Any] = [
                f.get("sheet"),
                f.get("row"),
                f.get("column"),
                f.get("value"),
                f.get("message"),
                SEVERITY_LABEL.get(str(f.get("severity")), ""),
            ]
            for c, v in enumerate(line):
                if isinstance(v, int):
                    summary.write_number(r, c, v)
                elif v is not None:
                    summary.write_string(r, c, _text(v) or "", text)
        for c, width in enumerate((14, 8, 18, 24, 80, 10)):
            summary.set_column(c, c, width)
        summary.freeze_panes(1, 0)
        wb.close()
        splice(target, splices)
    finally:
        db.close()


def _rows_xml(
    db: Any, table: Any, marks: dict[tuple[int, int], tuple[str, list[str]]], styles: dict[str, int]
) -> tuple[int, int, list[str]] | None:
    """(last row, last column index, chunks of ``<row>`` XML) of a raw sheet, or None when empty.
    Above :data:`FULL_COPY_ROWS` rows only the first :data:`HEAD_ROWS` and the rows with a problem,
    each at its own row number. A cell is skipped when it is empty and has no problem."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from hub.sheetxml import column_letter, empty_cell, row_sql, string_cell

    names = [c for c in table.column_names if c != "_row"]
    if not names or not table.num_rows:
        return None
    src = pa.table(
        [pc.cast(table["_row"], pa.int64())] + [table[n] for n in names],
        names=["_row", *(f"c{j}" for j in range(1, len(names) + 1))],
    )
    flagged = sorted({row for row, _ in marks})
    severity: dict[int, list[str | None]] = {row: [None] * len(names) for row in flagged}
    for (row, col), (sev, _) in marks.items():
        if 1 <= col <= len(names):
            severity[row][col - 1] = sev
    mark_table = pa.table(
        [pa.array(flagged, pa.int64())]
        + [pa.array([severity[r][j] for r in flagged], pa.string()) for j in range(len(names))],
        names=["_r", *(f"m{j}" for j in range(1, len(names) + 1))],
    )
    where = f"WHERE s._row <= {HEAD_ROWS} OR m._r IS NOT NULL" if table.num_rows > FULL_COPY_ROWS else ""
    cells = []
    for j in range(1, len(names) + 1):
        letter, value, mark = column_letter(j - 1), f"CAST(s.c{j} AS VARCHAR)", f"m.m{j}"
        style = (
            f"CASE {mark} WHEN 'error' THEN {styles['error']} WHEN 'warning' THEN {styles['warning']} "
            f"ELSE {styles['text']} END"
        )
        cells.append(
            f"CASE WHEN s.c{j} IS NULL AND {mark} IS NULL THEN '' "
            f"WHEN s.c{j} IS NULL OR {value} = '' THEN {empty_cell(letter, 's._row', style)} "
            f"ELSE {string_cell(letter, 's._row', style, value)} END"
        )
    db.register("_annotate_src", src)
    db.register("_annotate_marks", mark_table)
    try:
        chunks = db.rows(
            f"SELECT s._row // 2000 AS k, string_agg({row_sql('s._row', cells)}, '' ORDER BY s._row) "
            f"FROM _annotate_src s LEFT JOIN _annotate_marks m ON m._r = s._row {where} GROUP BY k ORDER BY k"
        )
        last = db.scalar(
            f"SELECT max(s._row) FROM _annotate_src s LEFT JOIN _annotate_marks m ON m._r = s._row {where}"
        )
    finally:
        db.unregister("_annotate_src")
        db.unregister("_annotate_marks")
    return int(last), len(names) - 1, [text for _, text in chunks]


#: A workbook whose sheets hold more XML than this (uncompressed) is not loaded whole by openpyxl
#: (about 25 times its XML in memory) but copied by the streaming path (``HUB_ANNOTATE_OPEN_MB``).
OPEN_LIMIT_MB = 16.0


def _too_large_to_open(source: Path) -> bool:
    import os
    import zipfile

    try:
        limit = float(os.environ.get("HUB_ANNOTATE_OPEN_MB", OPEN_LIMIT_MB)) * 2**20
        with zipfile.ZipFile(source) as zf:
            return sum(i.file_size for i in zf.infolist() if i.filename.startswith("xl/worksheets/")) > limit
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


def _open(source: Path) -> tuple[Any, str] | None:
    """(the clerk's own workbook, suffix to save with), or None when only a raw copy can be made."""
    from openpyxl import load_workbook

    suffix = source.suffix.lower()
    if suffix in OPENPYXL_SUFFIXES and not _too_large_to_open(source):
        try:
            return load_workbook(source, keep_vba=suffix == ".xlsm", rich_text=True), suffix
        except Exception:  # e.g. an .xlsx that is really an .xls: fall back to the raw copy
            pass
    return None


def _resolve_sheet(wb: Any, name: str) -> Any | None:
    if name in wb.sheetnames:
        return wb[name]
    fixed = name.translate(_BAD_SHEET_CHARS)[:31]
    if fixed in wb.sheetnames:
        return wb[fixed]
    data_sheets = [s for s in wb.sheetnames if s != SUMMARY_SHEET]
    return wb[data_sheets[0]] if len(data_sheets) == 1 else None


def _mark(ws: Any, row: int, col: int, severity: str, messages: list[str]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    cell = _anchor(ws, row, col)
    colour = FILLS.get(severity, FILLS["error"])
    cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    existing = cell.comment.text if cell.comment is not None and cell.comment.text else ""
    if cell.comment is not None and cell.comment.author == AUTHOR:
        # a merged household cell collects the findings of every member row once
        messages = [m for m in messages if m not in existing.split("\n")]
        if not messages:
            return
        text = existing + "\n" + "\n".join(messages)
    elif existing:
        text = f"{existing}\n—— {AUTHOR} ——\n" + "\n".join(messages)
    else:
        text = "\n".join(messages)
    comment = Comment(_text(text) or "", AUTHOR)
    comment.width = 320
    comment.height = min(60 + 40 * len(messages), 400)
    cell.comment = comment


def _anchor(ws: Any, row: int, col: int) -> Any:
    """The cell that carries a comment: inside a merged range (a household cell merged over its
    members' rows) that is the range's top-left cell, the one the clerk typed."""
    cell = ws.cell(row=row, column=col)
    if type(cell).__name__ != "MergedCell":
        return cell
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= col <= merged.max_col:
            return ws.cell(row=merged.min_row, column=merged.min_col)
    return cell


def _summary(wb: Any, findings: list[dict[str, Any]]) -> None:
    from openpyxl.styles import Font

    title, n = SUMMARY_SHEET, 1
    while title in wb.sheetnames:
        title, n = f"{SUMMARY_SHEET}({n})", n + 1
    ws = wb.create_sheet(title)
    ws.append(SUMMARY_HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r, f in enumerate(findings, start=2):  # (ws.max_row scans every cell: quadratic)
        ws.append([None, f.get("row"), None, None, None, SEVERITY_LABEL.get(str(f.get("severity")), "")])
        for col, key in ((1, "sheet"), (3, "column"), (4, "value"), (5, "message")):
            _set_text(ws.cell(row=r, column=col), f.get(key))
    for letter, width in zip("ABCDEF", (14, 8, 18, 24, 80, 10), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def annotate_workbook(
    source: Path, findings: list[dict[str, Any]], columns: dict[tuple[str, str], int], out: Path
) -> Path:
    """Write the annotated copy of ``source`` to ``out`` (suffix forced to ``.xlsx`` for CSV/.xls
    sources) and return the path written. ``findings``: dicts with sheet, row (Excel row), column
    (header as written or None), value, code, severity, message. ``columns``: (sheet, header) → 1-based
    column index."""
    source, out = Path(source), Path(out)
    findings = _within_cap(findings)
    cells: dict[tuple[str, int, int], tuple[str, list[str]]] = {}
    by_cell: dict[tuple[str, int, int], list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        if f.get("row") is None:
            continue
        col = columns.get((str(f.get("sheet")), str(f.get("column"))), 1) if f.get("column") else 1
        by_cell[(str(f.get("sheet")), int(f["row"]), col)].append(f)
    for key, group in by_cell.items():
        severity = "error" if any(g.get("severity") == "error" for g in group) else "warning"
        cells[key] = (
            severity,
            [f"[{SEVERITY_LABEL.get(str(g.get('severity')), '')}] {g.get('message', '')}" for g in group],
        )
    opened = _open(source)
    if opened is None:
        target = out.with_suffix(".xlsx")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _stream_copy(source, cells, findings, target)
        except OSError as exc:
            raise ValidationEngineError(f"无法写出标注文件：{exc}", file=str(target)) from exc
        return target
    wb, suffix = opened
    for (sheet, row, col), (severity, messages) in cells.items():
        ws = _resolve_sheet(wb, sheet)
        if ws is not None:
            _mark(ws, row, col, severity, messages)
    _summary(wb, findings)
    target = out if out.suffix.lower() == suffix else out.with_suffix(suffix)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        wb.save(target)
    except OSError as exc:
        raise ValidationEngineError(f"无法写出标注文件：{exc}", file=str(target)) from exc
    finally:
        wb.close()
    return target


def max_marked_rows() -> int:
    """Rows with a problem marked in one copy: ``HUB_ANNOTATE_MAX_ROWS`` or :data:`MAX_MARKED_ROWS`."""
    try:
        return max(1, int(os.environ.get("HUB_ANNOTATE_MAX_ROWS", MAX_MARKED_ROWS)))
    except ValueError:
        return MAX_MARKED_ROWS


def truncation_note(rows: int, cap: int, left: int) -> dict[str, Any]:
    """The last line of a copy marking ``cap`` of its ``rows`` rows with a problem (``left`` findings
    not marked), as a finding of no row."""
    message = (
        f"本文件有问题的行共 {rows:,} 行，只标注了前 {cap:,} 行；其余 {rows - cap:,} 行的 "
        f"{left:,} 个问题未逐一标注。请先按已标注的问题（多为同类）修改后重新上传。"
    )
    return {"sheet": None, "row": None, "column": None, "value": None, "severity": "warning",
            "code": "annotate-truncated", "message": message}  # fmt: skip


def _within_cap(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings of the first :func:`max_marked_rows` rows with a problem (sheet and row order, as
    stored), the file-level ones, and a last line (no row) saying how many were left out. (The hub
    passes findings already bounded so, from the store: ``submission_findings(max_rows=...)``.)"""
    cap = max_marked_rows()
    rows = {(str(f.get("sheet")), f.get("row")) for f in findings if f.get("row") is not None}
    if len(rows) <= cap:
        return findings
    kept_rows = set(sorted(rows, key=lambda k: (k[0], int(k[1] or 0)))[:cap])
    kept = [f for f in findings if f.get("row") is None or (str(f.get("sheet")), f.get("row")) in kept_rows]
    return [*kept, truncation_note(len(rows), cap, len(findings) - len(kept))]


@dataclass(frozen=True)
class AnnotateJob:
    """One annotated copy to write: the arguments of :func:`annotate_workbook`."""

    source: Path
    findings: list[dict[str, Any]]
    columns: dict[tuple[str, str], int]
    out: Path


class Batch:
    """Annotated copies being written: in worker processes, started at once, when the batch is large
    (one core, one job or fewer than :data:`PARALLEL_BYTES` of sources: in this process, when the
    result is asked for). ``workers``: at most this many processes (default: one per core; ``hub
    run`` takes one, as it merges and exports on the cores meanwhile). The caller may do other work,
    then calls :meth:`result`, or :meth:`cancel` when it gives up."""

    def __init__(self, jobs: Sequence[AnnotateJob], workers: int | None = None) -> None:
        self.jobs = list(jobs)
        self.futures: list[Any] = []
        self.pool: Any = None
        size = sum(job.source.stat().st_size for job in self.jobs if job.source.is_file())
        cores = os.cpu_count() or 1
        alone = len(self.jobs) == 1 and size >= ALONE_BYTES
        if alone or (cores > 1 and len(self.jobs) > 1 and size >= PARALLEL_BYTES):
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(
                min(len(self.jobs), workers or cores), mp_context=multiprocessing.get_context("spawn")
            )
            self.futures = [
                self.pool.submit(annotate_workbook, job.source, job.findings, job.columns, job.out)
                for job in self.jobs
            ]

    def result(self, progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
        """The paths written, in job order. A job's error is raised as it would be in this process;
        if the pool itself broke (a worker killed), the batch is written again here."""
        from concurrent.futures.process import BrokenProcessPool

        jobs = self.jobs

        def tick(i: int) -> None:
            if progress:
                progress(f"批注 {jobs[i].source.name}" if i < len(jobs) else "", i, len(jobs))

        try:
            if self.pool is not None:
                try:
                    written = []
                    for i, future in enumerate(self.futures):
                        tick(i)
                        written.append(future.result())
                    tick(len(jobs))
                    return written
                except BrokenProcessPool:
                    pass
            written = []
            for i, job in enumerate(jobs):
                tick(i)
                written.append(annotate_workbook(job.source, job.findings, job.columns, job.out))
            tick(len(jobs))
            return written
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop the workers: copies not started are dropped, one being written is stopped (its file
        under the temporary name is cleared by the next ingest, which writes the copy again), so a
        cancelled job or a stopping server does not wait for a large copy."""
        if self.pool is not None:
            pool, self.pool = self.pool, None
            if not all(f.done() for f in self.futures):
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)

"""Workbook readers (``.xlsx/.xlsm``, ``.xlsb``, ``.ods``, ``.xls``) with python-calamine, bounded.

The format comes from the bytes (:func:`hub.ingest.readers.sniff`). Before calamine allocates
anything, the file is measured without being built:

* zip formats: the zip directory (:func:`check_zip`: declared sizes, member count, compression
  ratio: decompression bombs refused), and every XML part calamine or the hub parses is refused if it
  declares a DTD (entity expansion, "billion laughs": :func:`hub.ingest.xlsxscan.xml_guard`);
* ``.xlsx``: a streaming scan of each sheet's XML counts the cells present, so the used range is
  known; far stray cells are left out with a warning (:mod:`hub.ingest.xlsxscan`);
* ``.xlsb``, ``.ods``, ``.xls``: the record stream / content XML / BIFF records are walked for the
  used range and the dimensions calamine would reserve (:mod:`hub.ingest.binscan`);

and each sheet's used range is checked against the limits (:mod:`hub.ingest.limits`) along with an
estimate of the memory the read takes. Then calamine reads it and rows are converted to Arrow in
batches (``iter_rows``), so the Python objects of one batch exist at a time, not of the whole sheet.

Row numbers: list index ``i`` of the table is Excel row ``i + 1`` (rows and columns are padded from
A1). Merged ranges come 0-based from calamine and are stored 1-based, clipped to the used range.
Hidden rows and columns are not exposed by calamine; for ``.xlsx`` they are found in the same scan,
for ``.xls`` in the record walk (``ROW``, ``COLINFO``) and for ``.ods`` in the ``content.xml`` scan
(``table:visibility``) and for ``.xlsb`` in the record streams (``BrtRowHdr``, ``BrtColInfo``).
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import IngestError
from hub.ingest import limits
from hub.ingest.readers import ZIP_ERRORS, check_zip, note, register_reader
from hub.ingest.render import rows_to_table
from hub.ingest.types import RawSheet
from hub.testhook import pause_point

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.ingest.xlsxscan import SheetScan

BATCH_CELLS = 1_000_000  # cells converted to Arrow at a time


def _open(path: Path, name: str) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt files
        text = str(exc)
        if "password" in text.lower() or "encrypt" in text.lower():
            raise IngestError(
                "文件设置了打开密码，无法读取", file=name, hint="请取消密码后另存再上传。"
            ) from exc
        raise IngestError(
            f"Excel 文件已损坏或无法解析：{text[:200]}",
            file=name,
            hint="请用 Excel 或 WPS 打开后另存为 .xlsx 再上传。",
        ) from exc


def _estimate(name: str, cells: int, text_bytes: int) -> None:
    """Refuse a file whose read would take more memory than :data:`limits.READ_MB`."""
    need = (cells * limits.BYTES_PER_CELL + text_bytes * 3) / limits.MB
    limits.check(limits.READ_MB, need, name)


@register_reader("xlsx", ".xlsx", ".xlsm")
def read_xlsx(path: Path, deadline: limits.Deadline) -> list[RawSheet]:
    from hub.ingest import xlsxscan

    infos = check_zip(path)
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            parts = xlsxscan.sheet_parts(zf, name)
            limits.check(limits.SHEETS, len(parts), name)
            for info in infos:  # every XML part calamine parses: no DTD
                if info.filename.startswith("xl/") and info.filename.endswith((".xml", ".rels")):
                    xlsxscan.xml_guard(zf, info.filename, name)
                if info.filename.lower().endswith("sharedstrings.xml"):
                    xlsxscan.check_shared_strings(zf, info.filename, name)
            scans = {
                sheet: xlsxscan.scan_sheet(zf, sheet, member, deadline) for sheet, member in parts.items()
            }
            for scan in scans.values():
                xlsxscan.plan(zf, scan, deadline)
    except ZIP_ERRORS as exc:
        raise IngestError("Excel 文件已损坏或不完整", file=name) from exc
    strings = sum(i.file_size for i in infos if i.filename.endswith("sharedStrings.xml"))
    _estimate(name, sum(s.last_row * s.last_col for s in scans.values()), strings)
    if not any(s.strays for s in scans.values()):
        return _read(path, name, deadline, scans)
    with tempfile.TemporaryDirectory(prefix="hub-read-") as tmp:
        clean = Path(tmp) / "clean.xlsx"
        try:
            xlsxscan.without_strays(path, list(scans.values()), clean, deadline)
        except ZIP_ERRORS as exc:
            raise IngestError("Excel 文件已损坏或不完整", file=name) from exc
        return _read(clean, name, deadline, scans)


@register_reader("xlsb", ".xlsb")
def read_xlsb(path: Path, deadline: limits.Deadline) -> list[RawSheet]:
    from hub.ingest import binscan

    infos = check_zip(path)
    hidden: binscan.Hidden = {}
    extents = binscan.xlsb_extents(path, deadline, hidden)
    strings = sum(i.file_size for i in infos if i.filename.endswith("sharedStrings.bin"))
    _estimate(path.name, sum(r * c for r, c in extents.values()), strings)
    return _read(path, path.name, deadline, None, hidden)


@register_reader("ods", ".ods")
def read_ods(path: Path, deadline: limits.Deadline) -> list[RawSheet]:
    from hub.ingest import binscan

    infos = check_zip(path)
    hidden: binscan.Hidden = {}
    extents = binscan.ods_extents(path, deadline, hidden)
    _estimate(path.name, sum(r * c for r, c in extents.values()), 0)
    del infos
    return _read(path, path.name, deadline, None, hidden)


@register_reader("xls", ".xls")
def read_xls(path: Path, deadline: limits.Deadline) -> list[RawSheet]:
    from hub.ingest import binscan

    hidden: binscan.Hidden = {}
    extents = binscan.xls_extents(path, deadline, hidden)
    _estimate(path.name, sum(r * c for r, c in extents), 0)
    return _read(path, path.name, deadline, None, hidden)


def _read(
    source: Path,
    name: str,
    deadline: limits.Deadline,
    scans: dict[str, SheetScan] | None,
    hidden: dict[str, tuple[set[int], set[int]]] | None = None,
) -> list[RawSheet]:
    """Every worksheet of ``source`` through calamine (``scans``: the ``.xlsx`` scan by sheet;
    ``hidden``: hidden rows and columns by sheet of the ``.xls``, ``.xlsb`` and ``.ods`` scans)."""
    wb = _open(source, name)
    sheets: list[RawSheet] = []
    try:
        for meta in wb.sheets_metadata:
            if str(getattr(meta, "typ", "")).endswith("ChartSheet"):
                continue
            scan = scans.get(meta.name) if scans is not None else None
            if scans is not None and scan is None:
                continue  # not a worksheet of workbook.xml (macro or dialog sheet): not measured, not read
            deadline.check(meta.name)
            pause_point("reader-call")  # tests: a calamine call that does not return (bounded.py)
            try:
                sheet = wb.get_sheet_by_name(meta.name)
            except Exception as exc:
                raise IngestError(
                    f"工作表无法读取（文件可能已损坏）：{str(exc)[:200]}", file=name, sheet=meta.name
                ) from exc
            end = sheet.end  # 0-based last cell; the table runs from A1 to it
            rows, cols = (int(end[0]) + 1, int(end[1]) + 1) if end else (0, 0)
            limits.check_extent(rows, cols, name, meta.name)
            table = _table(sheet, name, meta.name, deadline)
            merged = [
                (r0 + 1, c0 + 1, min(r1 + 1, rows), min(c1 + 1, cols))
                for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
                if r0 < rows and c0 < cols
            ]
            notes = []
            if scan is not None and scan.strays:
                shown = "、".join(scan.strays[:10]) + ("等" if len(scan.strays) > 10 else "")
                first = scan.strays[0]
                notes.append(
                    note(
                        meta.name,
                        int("".join(ch for ch in first if ch.isdigit())),
                        "stray-cell-ignored",
                        f"单元格 {shown} 远离表格其余内容（中间隔着大片空白），不作数据读取，已忽略。"
                        "如确为数据，请移到表格内后重新上传；否则请删除这些单元格。",
                        value=shown,
                    )
                )
            hid_rows, hid_cols = (hidden or {}).get(meta.name, (set(), set()))
            sheets.append(
                RawSheet(
                    name=meta.name,
                    table=table,
                    merged=merged,
                    hidden_rows=scan.hidden_rows if scan else {r for r in hid_rows if r <= rows},
                    hidden_cols=scan.hidden_cols if scan else {c for c in hid_cols if c <= cols},
                    notes=notes,
                )
            )
    finally:
        wb.close()
    return sheets


def _table(sheet: Any, name: str, sheet_name: str, deadline: limits.Deadline) -> pa.Table:
    """The sheet as the RawSheet table (from A1), built in batches of rows."""
    import pyarrow as pa

    start = sheet.start
    if start is None:
        return rows_to_table([])
    first_col = int(start[1])  # iter_rows pads rows from row 1 but columns only from the first used
    width = int(sheet.width)
    step = max(1, BATCH_CELLS // max(width, 1))
    parts: list[pa.Table] = []
    batch: list[Any] = []
    row_no = 1
    try:
        for row in sheet.iter_rows():
            batch.append(row)
            if len(batch) >= step:
                parts.append(rows_to_table(batch, row_no))
                row_no += len(batch)
                batch = []
                deadline.check(sheet_name)
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(
            f"工作表无法读取（文件可能已损坏）：{str(exc)[:200]}", file=name, sheet=sheet_name
        ) from exc
    if batch or not parts:
        parts.append(rows_to_table(batch, row_no))
    names = ["_row"] + [f"c{i}" for i in range(first_col + 1, first_col + width + 1)]
    parts = [p.rename_columns(names[: p.num_columns]) for p in parts]
    parts = [_pad(p, names) for p in parts]
    table = pa.concat_tables(parts)
    lead = [pa.nulls(table.num_rows, pa.string()) for _ in range(first_col)]
    table = pa.Table.from_arrays(
        [table["_row"], *lead, *table.columns[1:]],
        names=["_row", *[f"c{i}" for i in range(1, first_col + 1)], *table.column_names[1:]],
    )
    limits.check_cell_chars(table, name, sheet_name)
    return table


def _pad(part: pa.Table, names: list[str]) -> pa.Table:
    import pyarrow as pa

    for col in names[part.num_columns :]:
        part = part.append_column(col, pa.nulls(part.num_rows, pa.string()))
    return part

"""Sheet rows rendered as SpreadsheetML in SQL, spliced into a workbook XlsxWriter wrote.

XlsxWriter writes everything around the data of a big sheet (title, headers, 合计, footer, the
styles, comments, merges and print setup) and leaves the data rows out; the rows are rendered by
DuckDB, set-based (:func:`cell_sql`, :func:`row_sql`), and streamed into the sheet's part between
the rows written above and below them (:func:`splice`). Writing 400,000 rows cell by cell through
XlsxWriter's Python took most of a county's export and of its annotated ledgers; rendered in SQL
they cost about a tenth of that (docs/benchmarks.md).

Cells are written the way XlsxWriter writes them in constant-memory mode: strings inline
(``t="inlineStr"``, ``xml:space="preserve"`` when they start or end with white space, characters XML
forbids removed), numbers and date serials as ``<v>``, every cell carrying the xf index of its format
(obtained from XlsxWriter before the workbook is closed: :func:`xf_index`). No ``<f>`` is ever
written: text starting with ``=`` is a string cell like any other, which no spreadsheet evaluates
(:mod:`hub.safecell`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# characters XML 1.0 does not allow (as openpyxl's ILLEGAL_CHARACTERS_RE): removed from cell text
XML_ILLEGAL = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def xf_index(fmt: Any) -> int:
    """The xf index XlsxWriter gives ``fmt`` (assigned now, so the format is written to the styles
    part even when XlsxWriter itself writes no cell with it)."""
    return int(fmt._get_xf_index())


def string_cell(letter: str, row: str, style: str, text: str) -> str:
    """SQL for an inline string cell; ``row``, ``style`` and ``text`` are SQL expressions (``text``
    neither NULL nor empty: the caller writes an empty cell for those)."""
    escaped = (
        f"replace(replace(replace(regexp_replace({text}, '{XML_ILLEGAL}', '', 'g'), "
        "'&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    )
    space = f"CASE WHEN regexp_matches({text}, '^\\s|\\s$') THEN ' xml:space=\"preserve\"' ELSE '' END"
    return (
        f"'<c r=\"{letter}' || {row} || '\" s=\"' || {style} || '\" t=\"inlineStr\"><is><t' || {space} "
        f"|| '>' || {escaped} || '</t></is></c>'"
    )


def number_cell(letter: str, row: str, style: str, number: str) -> str:
    """SQL for a number cell (``number``: SQL text of the number, not NULL)."""
    return f"'<c r=\"{letter}' || {row} || '\" s=\"' || {style} || '\"><v>' || {number} || '</v></c>'"


def empty_cell(letter: str, row: str, style: str) -> str:
    """SQL for a styled empty cell (its borders and fill show)."""
    return f"'<c r=\"{letter}' || {row} || '\" s=\"' || {style} || '\"/>'"


def row_sql(row: str, cells: list[str]) -> str:
    """SQL for one ``<row>`` element from its cells' SQL."""
    return f"'<row r=\"' || {row} || '\">' || " + " || ".join(cells or ["''"]) + " || '</row>'"


@dataclass
class Splice:
    """The rows to put into one sheet part: from ``first_row`` to ``last_row`` (1-based), as text
    chunks in row order, plus merged ranges (``A6:A11``) to add."""

    part: str
    first_row: int
    last_row: int
    last_col: int
    chunks: Iterable[str]
    merges: list[str] = field(default_factory=list)


_ROW = re.compile(rb'<row r="(\d+)"')


def splice(path: Path, splices: list[Splice]) -> None:
    """Stream each splice's rows into its sheet part of the workbook at ``path`` (rewritten in place);
    the other parts are copied."""
    if not splices:
        return
    by_part = {s.part: s for s in splices}
    tmp = path.with_name(path.name + ".part")
    try:
        with (
            zipfile.ZipFile(path) as src,
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
        ):
            for info in src.infolist():
                data = src.read(info)
                s = by_part.get(info.filename)
                if s is None:
                    dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                    continue
                head, tail = _cut(data, s.first_row)
                part = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                part.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(part, "w") as out:
                    out.write(_widen(head, s.last_row, s.last_col))
                    for chunk in s.chunks:
                        out.write(chunk.encode("utf-8"))
                    out.write(_with_merges(tail, s.merges))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _cut(xml: bytes, first_row: int) -> tuple[bytes, bytes]:
    """Split a sheet part where rows ``first_row``… belong: before the first row written below them,
    or before ``</sheetData>``."""
    xml = xml.replace(b"<sheetData/>", b"<sheetData></sheetData>", 1)
    end = xml.index(b"</sheetData>")
    at = next((m.start() for m in _ROW.finditer(xml, 0, end) if int(m.group(1)) >= first_row), end)
    return xml[:at], xml[at:]


def _with_merges(tail: bytes, merges: list[str]) -> bytes:
    if not merges:
        return tail
    extra = "".join(f'<mergeCell ref="{ref}"/>' for ref in merges).encode()
    found = re.search(rb'<mergeCells count="(\d+)">', tail)
    if found is None:  # no merge above: the element goes right after sheetData
        end = tail.index(b"</sheetData>") + len(b"</sheetData>")
        return (
            tail[:end]
            + f'<mergeCells count="{len(merges)}">'.encode()
            + extra
            + b"</mergeCells>"
            + tail[end:]
        )
    close = tail.index(b"</mergeCells>", found.end())
    count = f'<mergeCells count="{int(found.group(1)) + len(merges)}">'.encode()
    return tail[: found.start()] + count + tail[found.end() : close] + extra + tail[close:]


def _widen(head: bytes, last_row: int, last_col: int) -> bytes:
    """The sheet's ``<dimension>`` must reach the last row and column written."""
    found = re.search(rb'<dimension ref="A1(?::([A-Z]+)(\d+))?"/>', head)
    if found is None:
        return head
    if found.group(2) is not None and int(found.group(2)) >= last_row:
        return head
    ref = f'<dimension ref="A1:{column_letter(last_col)}{last_row}"/>'.encode()
    return head[: found.start()] + ref + head[found.end() :]

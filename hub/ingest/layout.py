"""Finding the table inside a sheet, with no per-file configuration.

1. Merged ranges are filled from their top-left cell (:func:`hub.ingest.fill.fill_merged`).
2. The header row is the row among the first :data:`SCAN_ROWS` whose cells name the most canonical
   fields (at least :data:`MIN_HITS`); the header *block* grows over rows tied to it by vertical
   merges and over group rows above it (merged group headers, 户主情况...), up to 3 levels.
   Each column's header is the path of its non-empty header cells joined with '/'.
3. A 栏次 row (甲 乙 1 2 3 … / 栏次 1 2 …) right under the header is skipped.
4. Data rows are the rows below that are not blank (序号 and other ignored columns do
   not count), not totals (合计/总计/小计/共计, per-village subtotals, 其中：…) and above the first
   footer line (填表说明, 备注：, 制表人, 审核人, 负责人, 报出日期, （盖章）…). Set-based in Arrow.
5. Columns empty both in the header and in the data are dropped, and so are hidden columns whose
   header names no canonical field (helper columns). Hidden *rows* are data like any other: a clerk
   hides rows to print, and nothing submitted may be lost silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hub.ingest.columns import HeaderMatcher, recognise
from hub.ingest.fill import fill_merged
from hub.ingest.types import Column, RawSheet

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.ingest.divisions import Divisions
    from hub.model import Schema

SCAN_ROWS = 40
MIN_HITS = 2
LANCI = re.compile(r"^\s*(栏次|行次|[甲乙丙丁戊己庚辛壬癸]|\d{1,3})\s*$")
META = re.compile(
    r"(填报单位|填报日期|填表日期|统计日期|统计时间|截至|截止|单位[:：]|表号|制表机关|批准文号|有效期)"
)
TOTAL_WORDS = r"(合\s*计|总\s*计|小\s*计|共\s*计)"
TOTAL = rf"^\s*{TOTAL_WORDS}|^[^\d]{{0,20}}{TOTAL_WORDS}\s*[:：]?\s*$|^\s*其\s*中\s*([:：]|$)"
TOTAL_CELL = rf"^\s*{TOTAL_WORDS}\s*[:：]?\s*$"
FOOTER = (
    r"^\s*(填表说明|填报说明|说明\s*[:：]|备\s*注\s*[:：]|注\s*[:：]|制\s*表|审\s*核|负责人|填表人|"
    r"单位负责人|统计负责人|报出日期|[(（]\s*盖\s*章\s*[)）])"
)


@dataclass
class Layout:
    header_rows: list[int]
    columns: list[Column]
    data: pa.Table  # `_row` + the kept c<i> columns, data rows only, merged cells filled
    title: str | None = None
    preamble: list[str] = field(default_factory=list)  # text of every row above the header


def _cells(row: dict[str, object], width: int) -> list[str]:
    return [str(row.get(f"c{c}") or "").strip() for c in range(1, width + 1)]


def _is_title(cells: list[str], m: HeaderMatcher) -> bool:
    texts = {c for c in cells if c}
    return len(texts) == 1 and not any(m.is_known(t) or m.is_group(t) for t in texts)


def find_header(raw: RawSheet, table: pa.Table, m: HeaderMatcher) -> list[int] | None:
    """Row numbers of the header block, or None when no row names at least MIN_HITS fields."""
    width = table.num_columns - 1
    head = table.slice(0, SCAN_ROWS).to_pylist()
    rows = [(int(str(r["_row"])), _cells(r, width)) for r in head]
    hidden = raw.hidden_rows
    best, best_hits = -1, 0
    for i, (rownum, cells) in enumerate(rows):
        if rownum in hidden:
            continue
        hits = len({m.lookup(c) for c in cells if c and m.lookup(c)})
        if hits > best_hits:
            best, best_hits = i, hits
    if best_hits < MIN_HITS:
        return None
    top = bottom = best
    spans = [(r0, r1) for r0, _c0, r1, _c1 in raw.merged if r1 > r0]

    def vertical(a: int, b: int) -> bool:  # a merge ties row a to row b (a < b)
        return any(r0 <= rows[a][0] and r1 >= rows[b][0] for r0, r1 in spans)

    while bottom + 1 < len(rows) and bottom - top < 2 and vertical(bottom, bottom + 1):
        bottom += 1
    if bottom + 1 < len(rows) and bottom - top < 2 and _subheader(rows[bottom][1], rows[bottom + 1][1], m):
        bottom += 1
    while top > 0 and bottom - top < 2:
        cells = rows[top - 1][1]
        if (
            not any(cells)
            or META.search("".join(cells))
            or _is_title(cells, m)
            and not vertical(top - 1, top)
        ):
            break
        grouped = any(r0 <= rows[top - 1][0] <= r1 for r0, _c0, r1, c1 in raw.merged if c1 > _c0)
        if not (
            vertical(top - 1, top)
            or grouped
            or any(m.is_known(c) or m.is_group(c) for c in cells)
            or _upper_level(cells, rows[top][1])
        ):
            break
        top -= 1
    return [rows[i][0] for i in range(top, bottom + 1)]


_DATALIKE = re.compile(r"^[\d\s.,:/\-年月日]+$")


def _upper_level(upper: list[str], lower: list[str]) -> bool:
    """Is ``upper`` the first row of a two-level header written without merges, above the header row
    ``lower``: group cells over filled headers, and the headers of one-level columns (收款人家庭地址)
    over the cells ``lower`` leaves empty."""
    filled = [c for c in upper if c]
    alone = [i for i, c in enumerate(upper) if c and i < len(lower) and not lower[i]]
    return len(filled) >= 2 and bool(alone) and not any(_DATALIKE.match(c) for c in filled)


def _subheader(upper: list[str], lower: list[str], m: HeaderMatcher) -> bool:
    """Is ``lower`` the second row of a two-level header written without merges (a CSV, or a sheet
    whose group cell was not merged): a few header-like cells under a group cell and the empty cells
    right of it, blank under the one-level headers that already name fields."""
    filled = [i for i, c in enumerate(lower) if c]
    named = [i for i, c in enumerate(upper) if c and m.lookup(c)]
    if len(filled) < 2 or not named or any(_DATALIKE.match(lower[i]) for i in filled):
        return False
    if sum(1 for i in named if lower[i]) > 0.2 * len(named):
        return False  # a data row fills the columns whose headers name fields
    under_group = sum(1 for i in filled if not upper[i] or not m.lookup(upper[i]))
    header_like = sum(1 for i in filled if m.is_known(lower[i]) or m.is_group(lower[i]))
    # a quarter is enough: the subheaders of a 特困家庭 export name 户主姓名 and 家庭人口 beside eight
    # columns of money and 供养方式 that name no field (a data row would fill the named columns)
    return under_group >= 0.8 * len(filled) and header_like >= 2 and 4 * header_like >= len(filled)


def _spread_groups(block: list[list[str]]) -> list[list[str]]:
    """An unmerged group cell covers the empty cells right of it that have a header below them."""
    out = [list(r) for r in block]
    for upper, lower in zip(out, block[1:], strict=False):
        for i in range(1, len(upper)):
            left = upper[i - 1]
            if not upper[i] and lower[i] and left and lower[i - 1] and lower[i - 1] != left:
                upper[i] = left
    return out


def detect_layout(
    raw: RawSheet, m: HeaderMatcher, schema: Schema, divisions: Divisions | None = None
) -> Layout | None:
    """The sheet's header block, columns (placed by :func:`hub.ingest.columns.recognise`) and data
    rows; None when no header is recognisable."""
    import pyarrow.compute as pc

    table = fill_merged(raw.table, raw.merged)
    if table.num_rows == 0 or table.num_columns <= 1:
        return None
    header_rows = find_header(raw, table, m)
    if header_rows is None:
        return None
    width = table.num_columns - 1
    # row numbers are what the clerk sees (a CSV line, so a quoted cell with line breaks skips some)
    numbers = [int(str(r)) for r in table["_row"].slice(0, SCAN_ROWS + 1).to_pylist()]
    first, last = numbers.index(header_rows[0]), numbers.index(header_rows[-1])
    above = [_cells(r, width) for r in table.slice(0, first).to_pylist()]
    block = _spread_groups([_cells(r, width) for r in table.slice(first, last - first + 1).to_pylist()])
    title = next((next(c for c in cells if c) for cells in above if _is_title(cells, m)), None)
    preamble = [" ".join(dict.fromkeys(c for c in cells if c)) for cells in above if any(cells)]

    start = last + 1
    if start < table.num_rows:
        nxt = _cells(table.slice(start, 1).to_pylist()[0], width)
        filled = [c for c in nxt if c]
        if len(filled) >= 2 and all(LANCI.match(c) for c in filled):
            header_rows.append(int(table["_row"][start].as_py()))
            start += 1
    body = table.slice(start)

    paths: list[tuple[int, list[str]]] = []
    for c in range(1, width + 1):
        segments: list[str] = []
        for cells in block:
            text = cells[c - 1]
            if text and (not segments or segments[-1] != text):
                segments.append(text)
        has_data = body.num_rows > 0 and pc.count(body[f"c{c}"]).as_py() > 0
        if (c in raw.hidden_cols and not m.field_of_path(segments)) or (not segments and not has_data):
            continue
        paths.append((c, segments))

    # Data rows are told from totals and footers by the header alone; the fields then by header,
    # values and neighbours together.
    by_header = [Column(c, "/".join(seg), m.field_of_path(seg)) for c, seg in paths]
    data = select_data_rows(body, by_header, m)
    data = data.select(["_row", *(f"c{c}" for c, _ in paths)])
    columns = recognise(paths, data, schema, divisions)
    return Layout(header_rows=header_rows, columns=columns, data=data, title=title, preamble=preamble)


def select_data_rows(body: pa.Table, columns: list[Column], m: HeaderMatcher) -> pa.Table:
    """Keep the data rows of ``body`` (everything below the header): see the module docstring."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if body.num_rows == 0:
        return body
    counted = [c for c in columns if c.field is not None or not m.is_ignored(c.header.split("/")[-1] or "")]
    nonblank = pa.array([False] * body.num_rows)
    for c in counted:
        col = body[f"c{c.col_index}"]
        filled = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(col), ""), False)
        nonblank = pc.or_(nonblank, filled)
    total = pa.array([False] * body.num_rows)
    for c in columns:
        col = body[f"c{c.col_index}"]
        cheap = pc.or_(pc.match_substring(col, "计"), pc.match_substring(col, "其"))
        if not pc.any(cheap).as_py():  # the regex only runs on columns that could hold a total
            continue
        # an address or remark may mention 合计 in passing; there only a cell that *is* 合计 counts
        pattern = TOTAL_CELL if c.field in ("remark", "address") else TOTAL
        hit = pc.fill_null(pc.match_substring_regex(col, pattern), False)
        total = pc.or_(total, hit)
    all_cols = [body[f"c{i}"] for i in range(1, body.num_columns)]
    lead = pc.coalesce(*all_cols) if all_cols else pa.nulls(body.num_rows, pa.string())
    footer = pc.fill_null(pc.match_substring_regex(lead, FOOTER), False)
    after_footer = pc.greater(pc.cumulative_sum(pc.cast(footer, pa.int64())), 0)
    keep = pc.and_(nonblank, pc.invert(pc.or_(total, after_footer)))
    return body.filter(keep)

"""The xlsx writer, chosen on measurement (docs/mappings.md, docs/benchmarks.md).

Layout per departments.md: row 1 title merged across all columns; row 2 meta line; header rows with
horizontal and vertical merges; optional 栏次 row; 合计 row first or last; household cells merged
vertically over their block; footer lines; text format '@' on text columns (IDs, phones, codes,
certificates), dates YYYY-MM-DD, one font 宋体, freeze panes below the header, landscape, fit to width.

Two hands write one file. XlsxWriter writes the workbook around the data (title, meta line, headers,
合计, footer, the styles, merges and print setup) and leaves the data rows empty; then the data rows,
rendered as SpreadsheetML by DuckDB (:meth:`hub.export.body.Body.xml_chunks`, set-based, strings
inline, every cell styled with the xf index XlsxWriter gave the column's format), are streamed into
each sheet part between the rows above and below them, and the household merges are added to its
``<mergeCells>``. Writing 400,000 rows cell by cell in Python took XlsxWriter most of a county's
export; rendered in SQL they cost about a tenth of that.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.export.document import Document, SheetData, register_writer
from hub.sheetxml import Splice, column_letter, splice, xf_index

FONT = "宋体"
FLAG_FILL = "#FFEB9C"  # a value the hub flagged (e.g. a phone number failing the check): light amber
PAGE_FOOTER = "&C第 &P 页 共 &N 页"


@register_writer("xlsx")
def write_xlsx(doc: Document, path: Path) -> None:
    import xlsxwriter

    # every str is written as a string cell: never a formula, a number or a hyperlink (hub.safecell)
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    base = {"font_name": FONT, "font_size": 10, "border": 1, "valign": "vcenter"}
    fmts = {
        "title": wb.add_format(
            {"font_name": FONT, "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"}
        ),
        "meta": wb.add_format({"font_name": FONT, "font_size": 10}),
        "head": wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True}),
        "text": wb.add_format({**base, "num_format": "@"}),
        "date": wb.add_format({**base, "num_format": "yyyy-mm-dd", "align": "center"}),
        "datetime": wb.add_format({**base, "num_format": "yyyy-mm-dd hh:mm:ss"}),
        "integer": wb.add_format({**base, "num_format": "0", "align": "center"}),
        "money": wb.add_format({**base, "num_format": "0.00"}),
        "total": wb.add_format({**base, "bold": True, "num_format": "@"}),
    }
    # identical content gives identical bytes: the document's timestamps are the report date, not
    # the time of writing (XlsxWriter's zip entries already carry a fixed date)
    wb.set_properties(
        {
            "title": doc.spec.title,
            "author": "一表通 Hub",
            "company": doc.spec.department,
            "created": doc.created,
        }
    )
    fmts["signoff"] = wb.add_format({"font_name": FONT, "font_size": 10, "valign": "vcenter"})
    flag_fmts = {
        kind: wb.add_format({**props, "bg_color": FLAG_FILL})
        for kind, props in (
            ("text", {**base, "num_format": "@"}),
            ("date", {**base, "num_format": "yyyy-mm-dd", "align": "center"}),
            ("datetime", {**base, "num_format": "yyyy-mm-dd hh:mm:ss"}),
            ("integer", {**base, "num_format": "0", "align": "center"}),
            ("money", {**base, "num_format": "0.00"}),
        )
    }
    notes: list[tuple[str, str, int]] = []  # (sheet, column, flagged cells)
    splices = [_sheet(wb, i, sd, fmts, doc.spec.signoff, flag_fmts, notes) for i, sd in enumerate(doc.sheets)]
    if notes:
        _explain(wb, notes, fmts)
    wb.close()
    splice(path, [s for s in splices if s is not None])


def _value(ws: Any, r: int, c: int, value: Any, fmt: Any, kind: str) -> None:
    if value is None or value == "":
        ws.write_blank(r, c, None, fmt)
    elif kind in ("date", "datetime") and isinstance(value, dt.date):
        ws.write_datetime(
            r, c, value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time()), fmt
        )
    elif kind in ("integer", "money") and isinstance(value, int | float | Decimal):
        ws.write_number(r, c, float(value), fmt)
    else:
        ws.write_string(r, c, str(value), fmt)


def _header(ws: Any, sd: SheetData, top: int, fmts: dict[str, Any]) -> int:
    cols, depth = sd.sheet.columns, sd.header_depth()
    paths = [c.header + [c.header[-1]] * (depth - len(c.header)) for c in cols]
    for level in range(depth):
        c = 0
        while c < len(cols):
            text, end = paths[c][level], c
            # merge horizontally while the path up to this level is the same
            while end + 1 < len(cols) and paths[end + 1][: level + 1] == paths[c][: level + 1]:
                end += 1
            if level > 0 and paths[c][level] == paths[c][level - 1] and end == c:
                c += 1  # part of a vertical merge written from above
                continue
            bottom = level
            while end == c and bottom + 1 < depth and paths[c][bottom + 1] == text:
                bottom += 1
            if bottom > level or end > c:
                ws.merge_range(top + level, c, top + bottom, end, text, fmts["head"])
            else:
                ws.write_string(top + level, c, text, fmts["head"])
            c = end + 1
    row = top + depth
    if sd.sheet.column_numbers is not None:
        for c, label in enumerate(sd.sheet.column_numbers):
            ws.write_string(row, c, label, fmts["head"])
        row += 1
    return row


def _sheet(
    wb: Any,
    index: int,
    sd: SheetData,
    fmts: dict[str, Any],
    signoff: list[str],
    flag_fmts: dict[str, Any],
    notes: list[tuple[str, str, int]],
) -> Splice | None:
    ws = wb.add_worksheet(sd.sheet.name)
    cols = sd.sheet.columns
    last = len(cols) - 1
    ws.merge_range(0, 0, 0, last, sd.title, fmts["title"]) if last else ws.write_string(
        0, 0, sd.title, fmts["title"]
    )
    ws.set_row(0, 30)
    if last:
        ws.merge_range(1, 0, 1, last, sd.meta, fmts["meta"])
    else:
        ws.write_string(1, 0, sd.meta, fmts["meta"])
    row = _header(ws, sd, 2, fmts)
    if sd.sheet.freeze:
        ws.freeze_panes(row, 0)
    for c, col in enumerate(cols):
        ws.set_column(c, c, col.width or max(8, 2 * max(len(h) for h in col.header) + 2))
    position = sd.sheet.total.position if sd.sheet.total else None
    if position == "top":
        row = _total(ws, sd, row, fmts)
    # the data rows: rendered in SQL, spliced in after close(); their formats need an xf index now
    first, row = row + 1, row + sd.body.n
    rows = None
    if sd.body.n:
        block = sd.sheet.block is not None
        flagged = sd.body.flagged_keys(cols)
        by_key = {c.key: c for c in cols}
        flag_styles = {k: xf_index(flag_fmts[by_key[k].format]) for k in flagged}
        rows = Splice(
            f"xl/worksheets/sheet{index + 1}.xml",
            first,
            row,
            last,
            sd.body.xml_chunks(cols, [xf_index(fmts[c.format]) for c in cols], first, block, flag_styles),
            _merges(sd, first) if block else [],
        )
        _comment_flagged(ws, sd, first, flagged, notes)
    if position == "bottom":
        row = _total(ws, sd, row, fmts)
    for line in sd.footer:
        ws.write_string(row, 0, line, fmts["meta"])
        row += 1
    if signoff:
        row = _signoff(ws, row, len(cols), signoff, fmts["signoff"])
    # print: A4 landscape, one page wide, the header rows on every page, page numbers in the footer
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(2, 1 + sd.header_depth() + (1 if sd.sheet.column_numbers is not None else 0))
    ws.print_area(0, 0, max(row - 1, 0), last)
    ws.set_footer(PAGE_FOOTER)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    return rows


FLAG_COMMENT = "此值在乡镇台账中未通过校验（如号码位数不对），按原样报送，请向乡镇核实。"


def _comment_flagged(
    ws: Any, sd: SheetData, first: int, keys: list[str], notes: list[tuple[str, str, int]]
) -> None:
    """A comment on every flagged cell (the fill comes with the rendered rows), counted for 说明."""
    if not keys:
        return
    index = {c.key: i for i, c in enumerate(sd.sheet.columns)}
    counts: dict[str, int] = {}
    merged = {c.key for c in sd.sheet.columns if c.level == "household"} if sd.sheet.block else set()
    for row, key in sd.body.flagged(keys, merged):
        ws.write_comment(first + row - 2, index[key], FLAG_COMMENT, {"author": "一表通 Hub"})
        counts[key] = counts.get(key, 0) + 1
    for c in sd.sheet.columns:
        if counts.get(c.key):
            notes.append((sd.sheet.name, "/".join(c.header), counts[c.key]))


def _explain(wb: Any, notes: list[tuple[str, str, int]], fmts: dict[str, Any]) -> None:
    """The 说明 sheet: what the marked cells mean and where they are."""
    ws = wb.add_worksheet("说明")
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 12)
    ws.write_string(0, 0, "说明", fmts["title"])
    ws.write_string(
        1,
        0,
        "底色标黄并带批注的单元格：该值在乡镇报送的台账中未通过一表通的校验（例如电话号码位数不对），"
        "一表通没有改动它，按原样报送。使用前请向乡镇核实。",
        fmts["meta"],
    )
    for c, text in enumerate(("工作表", "列", "标记的单元格")):
        ws.write_string(3, c, text, fmts["head"])
    for r, (sheet, column, n) in enumerate(notes, start=4):
        ws.write_string(r, 0, sheet, fmts["text"])
        ws.write_string(r, 1, column, fmts["text"])
        ws.write_number(r, 2, n, fmts["integer"])
    ws.set_footer(PAGE_FOOTER)


def signoff_text(label: str) -> str:
    """One sign-off cell: the label and room to sign (报出日期 with 年 月 日 to fill in)."""
    return f"{label}：　　年　　月　　日" if "日期" in label else f"{label}：　　　　"


def _signoff(ws: Any, row: int, ncols: int, labels: list[str], fmt: Any) -> int:
    """The sign-off row (单位负责人 / 统计负责人 / 填表人 / 报出日期) under the table, one blank
    row below the last line; the labels spread over the columns (one cell when there are too few)."""
    row += 1
    if ncols < len(labels):
        ws.write_string(row, 0, "　　".join(signoff_text(x) for x in labels), fmt)
        return row + 1
    for i, label in enumerate(labels):
        ws.write_string(row, (i * ncols) // len(labels), signoff_text(label), fmt)
    return row + 1


def _merges(sd: SheetData, first: int) -> list[str]:
    """The household cells merged over each block of more than one row."""
    letters = [column_letter(i) for i, c in enumerate(sd.sheet.columns) if c.level == "household"]
    return [
        f"{c}{first + row - 1}:{c}{first + row + span - 2}" for row, span in sd.body.blocks() for c in letters
    ]


def _total(ws: Any, sd: SheetData, row: int, fmts: dict[str, Any]) -> int:
    assert sd.total is not None and sd.sheet.total is not None
    for c, col in enumerate(sd.sheet.columns):
        value = sd.total["_label"] if col.key == sd.sheet.total.label_column else sd.total.get(col.key)
        kind = (
            col.format
            if col.format in ("integer", "money") and col.key != sd.sheet.total.label_column
            else "text"
        )
        _value(ws, row, c, value, fmts[kind] if kind != "text" else fmts["total"], kind)
    return row + 1

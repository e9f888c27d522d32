"""Hostile and broken uploads, built at test time (tests/ingest/test_hostile.py and
benchmarks/bench_hostile.py): each payload is a function writing one file and returning its path.

Workbooks are written as raw SpreadsheetML (a minimal valid package) so a payload of a million rows or
a stray cell at XFD1048576 costs a second to build, not an openpyxl session; the ledger around the
payload is a small 实有人口 ledger of 青山镇 that the hub recognises (sample_data/divisions.csv).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from xml.sax.saxutils import escape

HEADER = ["姓名", "性别", "民族", "出生日期", "公民身份号码", "村(社区)", "与户主关系", "联系方式", "备注"]
FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/x","点我")', "+1+1", "@SUM(A1:A2)", "-2+3"]
TOWNSHIP = "青山镇"


def id_number(n: int) -> str:
    """A valid 18-digit ID of 示例县 (checksum per GB 11643)."""
    body = f"331099{1960 + n % 40:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def person(n: int, remark: str = "") -> list[str]:
    born = f"{1960 + n % 40:04d}-{1 + n % 12:02d}-{1 + n % 28:02d}"
    return [
        f"张{n:05d}",
        "男" if n % 2 else "女",
        "汉族",
        born,
        id_number(n),
        "上塘村",
        "户主",
        "13905710000",
        remark,
    ]


def ledger_rows(n: int) -> list[list[str]]:
    return [HEADER] + [person(i) for i in range(1, n + 1)]


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def rows_xml(rows: Iterable[list[str]], first: int = 1) -> Iterable[str]:
    for r, values in enumerate(rows, start=first):
        cells = "".join(cell(f"{col_letters(c)}{r}", v) for c, v in enumerate(values, start=1) if v != "")
        yield f'<row r="{r}">{cells}</row>'


def write_xlsx(
    path: Path,
    sheet_data: Iterable[str],
    *,
    sheet_tail: str = "",
    prolog: str = "",
    extra: dict[str, bytes] | None = None,
    head: str = "",
) -> Path:
    """A minimal valid ``.xlsx`` with one sheet ``Sheet1`` whose ``<sheetData>`` is ``sheet_data``
    (streamed), ``sheet_tail`` after it (merges), ``prolog`` before the root (a DTD), ``extra`` parts."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{rel}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(
                f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{ns}">{head}<sheetData>'.encode()
            )
            buf: list[str] = []
            for piece in sheet_data:
                buf.append(piece)
                if len(buf) >= 5000:
                    fh.write("".join(buf).encode())
                    buf = []
            fh.write("".join(buf).encode())
            fh.write(f"</sheetData>{sheet_tail}</worksheet>".encode())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def write_csv(path: Path, lines: Iterable[str], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        for line in lines:
            fh.write(line + "\n")
    return path


# -- the payloads ---------------------------------------------------------------------------------
def stray_far(d: Path) -> Path:
    """20-row ledger with one stray cell at XFD1048576 (the reported SIGABRT)."""
    return write_xlsx(
        d / "stray_far.xlsx",
        [*rows_xml(ledger_rows(20)), f'<row r="1048576">{cell("XFD1048576", "x")}</row>'],
    )


def stray_mid(d: Path) -> Path:
    """20-row ledger with a stray cell at XFD5000 (the reported 4.3 GB / 20 s)."""
    return write_xlsx(
        d / "stray_mid.xlsx", [*rows_xml(ledger_rows(20)), f'<row r="5000">{cell("XFD5000", "x")}</row>']
    )


def stray_below(d: Path) -> Path:
    """20-row ledger with a stray cell at A1048576: far below, not far right (under every limit)."""
    return write_xlsx(
        d / "stray_below.xlsx",
        [*rows_xml(ledger_rows(20)), f'<row r="1048576">{cell("A1048576", "x")}</row>'],
    )


def wide_sheet(d: Path) -> Path:
    """600 columns filled on every row: a sheet over the column limit (not a stray)."""
    rows = [[f"列{c}" for c in range(1, 601)]] + [[str(r * c) for c in range(1, 601)] for r in range(1, 6)]
    return write_xlsx(d / "wide.xlsx", rows_xml(rows))


def huge_cell(d: Path) -> Path:
    """One 40,000-character cell (Excel allows 32,767)."""
    rows = ledger_rows(5)
    rows[3][8] = "长" * 40_000
    return write_xlsx(d / "huge_cell.xlsx", rows_xml(rows))


def formulas_xlsx(d: Path) -> Path:
    """Formula-looking text as string cells (what a hostile clerk or a pasted web page leaves)."""
    rows = ledger_rows(len(FORMULAS))
    for i, text in enumerate(FORMULAS, start=1):
        rows[i][8] = text
    return write_xlsx(d / "formulas.xlsx", rows_xml(rows))


def formulas_csv(d: Path) -> Path:
    rows = ledger_rows(len(FORMULAS))
    for i, text in enumerate(FORMULAS, start=1):
        rows[i][8] = text
    return write_csv(
        d / "formulas.csv", (",".join('"' + v.replace('"', '""') + '"' for v in r) for r in rows)
    )


def live_formula(d: Path) -> Path:
    """A real ``<f>`` formula cell with a DDE payload and no cached value: read as an empty cell."""
    rows = list(rows_xml(ledger_rows(3)))
    rows.append('<row r="5"><c r="I5"><f>cmd|\' /C calc\'!A0</f></c></row>')
    return write_xlsx(d / "live_formula.xlsx", rows)


def deep_merges(d: Path) -> Path:
    """10,000 merged ranges (most beyond the data) plus one from the data's edge to XFD1048576."""
    merges = [f'<mergeCell ref="I{r}:I{r + 1}"/>' for r in range(2, 20_002, 2)]
    merges.append('<mergeCell ref="J1:XFD1048576"/>')
    tail = f'<mergeCells count="{len(merges)}">{"".join(merges)}</mergeCells>'
    return write_xlsx(d / "deep_merges.xlsx", rows_xml(ledger_rows(20)), sheet_tail=tail)


def billion_laughs(d: Path) -> Path:
    """Entity expansion in the sheet XML (10^9 "lol")."""
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    prolog = f"<!DOCTYPE worksheet [{ents}]>"
    return write_xlsx(
        d / "billion_laughs.xlsx",
        [
            f'<row r="1">{cell("A1", "姓名")}</row>',
            '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>',
        ],
        prolog=prolog,
    )


def external_entity(d: Path) -> Path:
    """An external entity pointing at /etc/passwd, in sharedStrings.xml."""
    sst = (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    )
    return write_xlsx(
        d / "xxe.xlsx", ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>'], extra={"xl/sharedStrings.xml": sst}
    )


def deep_nesting(d: Path) -> Path:
    """200,000 nested elements inside one cell's rich text."""
    depth = 200_000
    inner = "<r>" * depth + "<t>x</t>" + "</r>" * depth
    return write_xlsx(
        d / "deep_nesting.xlsx",
        [*rows_xml(ledger_rows(3)), f'<row r="5"><c r="A5" t="inlineStr"><is>{inner}</is></c></row>'],
    )


def huge_sst_count(d: Path) -> Path:
    """A shared-strings table that declares four billion strings and holds one."""
    sst = (
        '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'count="4294967295" uniqueCount="4294967295"><si><t>姓名</t></si></sst>'
    ).encode()
    return write_xlsx(
        d / "huge_sst.xlsx",
        ['<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>4000000000</v></c></row>'],
        extra={"xl/sharedStrings.xml": sst},
    )


def zip_ratio_bomb(d: Path, megabytes: int = 64) -> Path:
    """A sheet part of ``megabytes`` zeros, a few hundred KB compressed."""
    chunk = b"0" * (16 << 20)
    path = d / "zip_bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for _ in range(max(1, megabytes // 16)):
                fh.write(chunk)
    return path


def unbalanced_quote(d: Path) -> Path:
    """One unterminated quote on line 6 of a 21-line CSV (the reported 16 rows swallowed)."""
    lines = [",".join(r) for r in ledger_rows(20)]
    lines[5] = lines[5].replace("上塘村", '"上塘村', 1)
    return write_csv(d / "unbalanced_quote.csv", lines)


def xlsx_named_csv(d: Path) -> Path:
    src = write_xlsx(d / "tmp_real.xlsx", rows_xml(ledger_rows(10)))
    return src.rename(d / "really_xlsx.csv")


def csv_named_xlsx(d: Path) -> Path:
    return write_csv(d / "really_csv.xlsx", (",".join(r) for r in ledger_rows(10)))


def csv_named_xls_gbk(d: Path) -> Path:
    return write_csv(d / "really_csv_gbk.xls", (",".join(r) for r in ledger_rows(10)), encoding="gbk")


def zero_bytes(d: Path) -> Path:
    (d / "zero.xlsx").write_bytes(b"")
    return d / "zero.xlsx"


def truncated_xlsx(d: Path) -> Path:
    data = write_xlsx(d / "tmp_full.xlsx", rows_xml(ledger_rows(200))).read_bytes()
    (d / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    return d / "truncated.xlsx"


def png_named_xlsx(d: Path) -> Path:
    (d / "photo.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return d / "photo.xlsx"


def unknown_binary(d: Path) -> Path:
    (d / "blob.csv").write_bytes(bytes(range(256)) * 16)
    return d / "blob.csv"


def word_document(d: Path) -> Path:
    with zipfile.ZipFile(d / "letter.xlsx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return d / "letter.xlsx"


def empty_sheet_xlsx(d: Path) -> Path:
    return write_xlsx(d / "empty_sheet.xlsx", [])


def rows_over_limit(d: Path, rows: int) -> Path:
    """``rows`` data rows (the row limit lowered in the test, or 1.1 million in the slow test)."""
    return write_xlsx(d / f"rows_{rows}.xlsx", rows_xml(person(i) for i in range(1, rows + 1)))


def duplicate_rows_xlsx(d: Path, rows: int = 200_000) -> Path:
    """``rows`` identical ledger rows under one header (the reported 7 MB / 10 GB upload)."""
    same = person(7)
    return write_xlsx(d / f"duplicates_{rows}.xlsx", rows_xml([HEADER, *([same] * rows)]))


def dense_wide(d: Path, rows: int = 1000, cols: int = 16_384) -> Path:
    """Every cell of ``rows`` × ``cols`` filled: a real cell bomb (not a stray)."""

    def gen() -> Iterable[str]:
        for r in range(1, rows + 1):
            yield (
                f'<row r="{r}">'
                + "".join(f'<c r="{col_letters(c)}{r}"><v>1</v></c>' for c in range(1, cols + 1))
                + "</row>"
            )

    return write_xlsx(d / "dense_wide.xlsx", gen())


def forged_xls_dimensions(source: Path, d: Path) -> Path:
    """A real ``.xls`` whose DIMENSIONS records claim 4 billion rows × 256 columns (calamine reserves
    what they say)."""
    data = bytearray(source.read_bytes())
    at = data.find(b"\x00\x02\x0e\x00")
    while at >= 0:
        data[at + 4 : at + 8] = (0).to_bytes(4, "little")
        data[at + 8 : at + 12] = (0xFFFFFFF0).to_bytes(4, "little")
        data[at + 12 : at + 14] = (0).to_bytes(2, "little")
        data[at + 14 : at + 16] = (256).to_bytes(2, "little")
        at = data.find(b"\x00\x02\x0e\x00", at + 1)
    out = d / "forged_dims.xls"
    out.write_bytes(bytes(data))
    return out


FAST: dict[str, Callable[[Path], Path]] = {
    f.__name__: f
    for f in (
        stray_far,
        stray_mid,
        stray_below,
        wide_sheet,
        huge_cell,
        formulas_xlsx,
        formulas_csv,
        live_formula,
        deep_merges,
        billion_laughs,
        external_entity,
        deep_nesting,
        huge_sst_count,
        zip_ratio_bomb,
        unbalanced_quote,
        xlsx_named_csv,
        csv_named_xlsx,
        csv_named_xls_gbk,
        zero_bytes,
        truncated_xlsx,
        png_named_xlsx,
        unknown_binary,
        word_document,
        empty_sheet_xlsx,
    )
}

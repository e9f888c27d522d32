"""The used range of ``.xls``, ``.xlsb`` and ``.ods`` sheets, measured before calamine reads them.

calamine builds every sheet as a dense range from its first to its last cell with a value, and for
``.xls`` first reserves what the sheet's DIMENSIONS record declares (a forged record asks for billions
of cells). These walks read each format's own records without building anything:

* ``.xls``: the ``Workbook`` stream of the OLE2 file (olefile), BIFF records ``DIMENSIONS`` and the
  cell records (``NUMBER``, ``LABEL``, ``LABELSST``, ``RK``, ``MULRK``, ``BOOLERR``, ``FORMULA``...);
* ``.xlsb``: each ``xl/worksheets/*.bin`` record stream, ``BrtRowHdr`` and the cell records (and
  hidden rows and columns: ``BrtRowHdr`` fDyZero, ``BrtColInfo`` fHidden);
* ``.ods``: ``content.xml`` tags, with ``number-rows-repeated`` / ``number-columns-repeated``
  (a repeated cell with a value is that many cells).

Each returns the used range per sheet; a range over the limits is refused (:mod:`hub.ingest.limits`).
Far stray cells are not left out in these formats (they are rare, and the clerk can re-save as
``.xlsx``): the file is refused with its extent.
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

from hub.errors import IngestError
from hub.ingest import limits
from hub.ingest.readers import ZIP_ERRORS
from hub.ingest.xlsxscan import CHUNK, col_letters

# BIFF8 cell records: (row, col) as two u16 at the start of the record body
_XLS_CELLS = {0x0203, 0x0204, 0x00FD, 0x027E, 0x0205, 0x0006, 0x00D6, 0x0201, 0x0202}
_XLS_MULRK = 0x00BD
_XLS_DIMENSIONS = 0x0200
_XLS_BOF = 0x0809
_XLS_EOF = 0x000A
_XLS_FILEPASS = 0x002F  # the rest of the stream is encrypted
_XLS_BOUNDSHEET = 0x0085  # a sheet's name and the offset of its BOF
_XLS_ROW = 0x0208  # grbit bit 5 (fDyZero): the row is hidden
_XLS_COLINFO = 0x007D  # grbit bit 0 (fHidden): columns colFirst..colLast are hidden

#: hidden rows and columns (1-based) by sheet name, filled by the scans below when asked for
Hidden = dict[str, tuple[set[int], set[int]]]


def _refuse_extent(rows: int, cols: int, file: str, sheet: str | None) -> None:
    limits.check_extent(rows, cols, file, sheet, f"A1:{col_letters(max(cols, 1))}{max(rows, 1)}")


def xls_extents(path: Path, deadline: limits.Deadline, hidden: Hidden | None = None) -> list[tuple[int, int]]:
    """(rows, columns) of each sheet substream of an ``.xls``; refuses a range over the limits.
    ``hidden``: filled with each sheet's hidden rows and columns (``ROW``/``COLINFO`` records)."""
    import olefile

    name = path.name
    try:
        ole = olefile.OleFileIO(str(path))
    except Exception as exc:  # olefile raises OSError and its own errors on a broken container
        raise IngestError(
            "Excel 97-2003 文件已损坏或不完整（无法打开文件结构）",
            file=name,
            hint="请用 Excel 或 WPS 打开后另存为 .xlsx 再上传。",
        ) from exc
    try:
        streams = {"/".join(e).lower() for e in ole.listdir()}
        stream = "Workbook" if "workbook" in streams else "Book" if "book" in streams else None
        if stream is None:
            if "encryptedpackage" in streams or "encryptioninfo" in streams:
                raise IngestError("文件设置了打开密码，无法读取", file=name, hint="请取消密码后另存再上传。")
            if "worddocument" in streams:
                raise IngestError("文件是 Word 文档，不是可导入的表格", file=name)
            raise IngestError("文件不是 Excel 工作簿（OLE 文件中没有工作簿数据）", file=name)
        size = ole.get_size(stream)
        limits.check(limits.INFLATED_MB, size / limits.MB, name)
        data = ole.openstream(stream).read()
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError("Excel 97-2003 文件已损坏或不完整", file=name) from exc
    finally:
        ole.close()
    return _biff_extents(data, name, deadline, hidden)


def _sheet_name(data: bytes, body: int, length: int) -> str:
    """The name in a BIFF8 ``BOUNDSHEET`` record (ShortXLUnicodeString after 6 bytes)."""
    if length < 8:
        return ""
    cch, flags = data[body + 6], data[body + 7]
    raw = data[body + 8 : body + length]
    return raw[: 2 * cch].decode("utf-16-le", "replace") if flags & 1 else raw[:cch].decode("latin-1")


def _biff_extents(
    data: bytes, name: str, deadline: limits.Deadline, hidden: Hidden | None = None
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos, end = 0, len(data)
    rows = cols = 0
    depth = 0
    unpack = struct.unpack_from
    n = 0
    names: dict[int, str] = {}  # BOF offset -> sheet name (BOUNDSHEET)
    sheet = ""
    hid_rows: set[int] = set()
    hid_cols: set[int] = set()
    while pos + 4 <= end:
        start = pos
        typ, length = unpack("<HH", data, pos)
        body = pos + 4
        pos = body + length
        if typ == _XLS_ROW and length >= 14:
            if unpack("<H", data, body + 12)[0] & 0x20:
                hid_rows.add(unpack("<H", data, body)[0] + 1)
        elif typ == _XLS_COLINFO and length >= 10:
            first, last = unpack("<HH", data, body)
            if unpack("<H", data, body + 8)[0] & 1:
                hid_cols.update(range(first + 1, min(last, 16383) + 2))
        elif typ == _XLS_BOUNDSHEET and length >= 8:
            names[unpack("<I", data, body)[0]] = _sheet_name(data, body, length)
        elif typ in _XLS_CELLS and length >= 4:
            r, c = unpack("<HH", data, body)
            rows, cols = max(rows, r + 1), max(cols, c + 1)
        elif typ == _XLS_MULRK and length >= 6:
            r, _ = unpack("<HH", data, body)
            (last,) = unpack("<H", data, body + length - 2)
            rows, cols = max(rows, r + 1), max(cols, last + 1)
        elif typ == _XLS_DIMENSIONS and length >= 14:
            r0, r1, c0, c1 = unpack("<IIHH", data, body)
            if r1 > r0 and c1 > c0:
                declared = (r1 - r0) * (c1 - c0)
                limits.check(limits.CELLS, declared, name, where=f"声明范围 {r1 - r0} 行 × {c1 - c0} 列")
        elif typ == _XLS_FILEPASS:
            raise IngestError("文件设置了打开密码，无法读取", file=name, hint="请取消密码后另存再上传。")
        elif typ == _XLS_BOF:
            if depth == 0:
                sheet = names.get(start, "")
            depth += 1
        elif typ == _XLS_EOF:
            depth -= 1
            if depth <= 0:
                if rows or cols:
                    _refuse_extent(rows, cols, name, f"第 {len(out) + 1} 个工作表")
                out.append((rows, cols))
                if hidden is not None and sheet and (hid_rows or hid_cols):
                    hidden[sheet] = (
                        {r for r in hid_rows if r <= rows},
                        {c for c in hid_cols if c <= cols},
                    )
                rows = cols = depth = 0
                hid_rows, hid_cols = set(), set()
        n += 1
        if n % 200_000 == 0:
            deadline.check()
    if rows or cols:
        _refuse_extent(rows, cols, name, None)
        out.append((rows, cols))
    return out


# -- xlsb ---------------------------------------------------------------------------------------------
_XLSB_CELLS = frozenset(range(0x02, 0x0C))  # BrtCellRk ... BrtFmlaError (0x01, BrtCellBlank, holds no value)
_XLSB_ROWHDR = 0x0000  # BrtRowHdr: rw u32, ixfe u32, miyRw u16, flags u16 (bit 12, fDyZero: hidden)
_XLSB_COLINFO = (
    0x003C  # BrtColInfo: colFirst u32, colLast u32, coldx u32, ixfe u32, flags u16 (bit 0: hidden)
)
_XLSB_BUNDLESH = 0x009C  # BrtBundleSh (workbook.bin): hsState, iTabID, strRelID, strName
_REL = re.compile(rb"<(?:\w+:)?Relationship\s[^>]*>")
_REL_ID = re.compile(rb'\sId="([^"]*)"')
_REL_TARGET = re.compile(rb'\sTarget="([^"]*)"')


def xlsb_extents(
    path: Path, deadline: limits.Deadline, hidden: Hidden | None = None
) -> dict[str, tuple[int, int]]:
    """(rows, columns) of each ``xl/worksheets/*.bin`` of an ``.xlsb``. ``hidden``: filled with each
    sheet's hidden rows and columns (``BrtRowHdr`` fDyZero, ``BrtColInfo`` fHidden), by sheet name."""
    out: dict[str, tuple[int, int]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = _xlsb_sheet_names(zf) if hidden is not None else {}
            for member in zf.namelist():
                if member.startswith("xl/worksheets/") and member.endswith(".bin"):
                    hid: tuple[set[int], set[int]] = (set(), set())
                    out[member] = _xlsb_sheet(zf, member, path.name, deadline, hid)
                    if hidden is not None and member in names and (hid[0] or hid[1]):
                        rows, cols = out[member]
                        hidden[names[member]] = (
                            {r for r in hid[0] if r <= rows},
                            {c for c in hid[1] if c <= cols},
                        )
    except ZIP_ERRORS as exc:
        raise IngestError("Excel 二进制工作簿（.xlsb）已损坏或不完整", file=path.name) from exc
    return out


def _records(data: bytes) -> list[tuple[int, int, int]]:
    """(type, body offset, size) of every record of a small xlsb part (workbook.bin)."""
    out = []
    pos, end = 0, len(data)
    while pos < end:
        typ = data[pos]
        pos += 1
        if typ & 0x80 and pos < end:
            typ = (typ & 0x7F) | ((data[pos] & 0x7F) << 7)
            pos += 1
        size = 0
        for shift in (0, 7, 14, 21):
            if pos >= end:
                break
            byte = data[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        out.append((typ, pos, size))
        pos += size
    return out


def _wide(data: bytes, pos: int) -> tuple[str, int]:
    """An XLWideString at ``pos`` (u32 count of UTF-16 units, then the text) and the offset after it."""
    if pos + 4 > len(data):
        return "", len(data)
    (count,) = struct.unpack_from("<I", data, pos)
    if count == 0xFFFFFFFF:  # XLNullableWideString, null
        return "", pos + 4
    text = data[pos + 4 : pos + 4 + 2 * count]
    return text.decode("utf-16-le", "replace"), pos + 4 + 2 * count


def _xlsb_sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Member (``xl/worksheets/sheet1.bin``) → sheet name, from ``xl/workbook.bin`` (``BrtBundleSh``:
    the name and its relationship id) and ``xl/_rels/workbook.bin.rels`` (id → target)."""
    names = set(zf.namelist())
    if "xl/workbook.bin" not in names or "xl/_rels/workbook.bin.rels" not in names:
        return {}
    for part in ("xl/workbook.bin", "xl/_rels/workbook.bin.rels"):
        if zf.getinfo(part).file_size > 16 * limits.MB:  # a workbook directory, never this large
            return {}
    targets = {}
    for tag in _REL.findall(zf.read("xl/_rels/workbook.bin.rels")):
        rid, target = _REL_ID.search(tag), _REL_TARGET.search(tag)
        if rid and target:
            path = target.group(1).decode("utf-8", "replace")
            targets[rid.group(1).decode("utf-8", "replace")] = (
                path.lstrip("/") if path.startswith("/") else f"xl/{path}"
            )
    book = zf.read("xl/workbook.bin")
    out = {}
    for typ, pos, size in _records(book):
        if typ == _XLSB_BUNDLESH and size >= 12:
            rel, after = _wide(book[: pos + size], pos + 8)
            name, _ = _wide(book[: pos + size], after)
            if rel in targets and name:
                out[targets[rel]] = name
    return out


def _xlsb_sheet(
    zf: zipfile.ZipFile,
    member: str,
    name: str,
    deadline: limits.Deadline,
    hidden: tuple[set[int], set[int]] | None = None,
) -> tuple[int, int]:
    rows = cols = 0
    row = 0
    buf = b""
    pos = 0
    with zf.open(member) as fh:
        eof = False
        while True:
            if len(buf) - pos < 64 and not eof:  # keep at least a header plus the fields we read
                more = fh.read(CHUNK)
                eof = not more
                buf = buf[pos:] + more
                pos = 0
                deadline.check(member)
            if pos >= len(buf):
                break
            # record type: 1-2 bytes, size: 1-4 bytes, 7 bits each, high bit = more
            typ = buf[pos]
            pos += 1
            if typ & 0x80:
                if pos >= len(buf):
                    break
                typ = (typ & 0x7F) | ((buf[pos] & 0x7F) << 7)
                pos += 1
            size = 0
            for shift in (0, 7, 14, 21):
                if pos >= len(buf):
                    break
                byte = buf[pos]
                pos += 1
                size |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
            if typ == _XLSB_ROWHDR and pos + 4 <= len(buf):
                (row,) = struct.unpack_from("<I", buf, pos)
                flags = (
                    struct.unpack_from("<H", buf, pos + 10)[0] if size >= 12 and pos + 12 <= len(buf) else 0
                )
                if hidden is not None and flags & 0x1000:
                    hidden[0].add(row + 1)
            elif typ == _XLSB_COLINFO and hidden is not None and size >= 18 and pos + 18 <= len(buf):
                first, last = struct.unpack_from("<II", buf, pos)
                if struct.unpack_from("<H", buf, pos + 16)[0] & 1 and first <= last < 16384:
                    hidden[1].update(range(first + 1, last + 2))
            elif typ in _XLSB_CELLS and pos + 4 <= len(buf):
                (col,) = struct.unpack_from("<I", buf, pos)
                rows, cols = max(rows, row + 1), max(cols, col + 1)
            if size > len(buf) - pos:  # a long record: skip it through the stream
                skip = size - (len(buf) - pos)
                buf, pos = b"", 0
                while skip > 0:
                    got = fh.read(min(skip, CHUNK))
                    if not got:
                        eof = True
                        break
                    skip -= len(got)
            else:
                pos += size
    _refuse_extent(rows, cols, name, member)
    return rows, cols


# -- ods ----------------------------------------------------------------------------------------------
_ODS_TAG = re.compile(
    rb"<table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>|</table:table-row>"
)
_ROWS_REPEATED = re.compile(rb'number-rows-repeated="(\d+)"')
_COLS_REPEATED = re.compile(rb'number-columns-repeated="(\d+)"')
_TABLE_NAME = re.compile(rb'table:name="([^"]*)"')
_INVISIBLE = re.compile(rb'table:visibility="(?:collapse|filter)"')


def ods_extents(
    path: Path, deadline: limits.Deadline, hidden: Hidden | None = None
) -> dict[str, tuple[int, int]]:
    """(rows, columns) of each table of an ``.ods`` from ``content.xml`` (repeats counted).
    ``hidden``: filled with each table's hidden rows and columns (``table:visibility`` other than
    ``visible`` on a ``table-row`` or ``table-column``)."""
    from hub.ingest.xlsxscan import _chunks, xml_guard

    name = path.name
    out: dict[str, tuple[int, int]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for part in ("content.xml", "styles.xml"):
                if part in zf.namelist():
                    xml_guard(zf, part, name)
            table = ""
            row = rep = col = 0
            row_cols = 0  # last column with a value in the current row
            rows = cols = 0
            hid_rows: dict[str, list[tuple[int, int]]] = {}  # table -> (first row, repeats) hidden
            hid_cols: dict[str, list[tuple[int, int]]] = {}
            for part in _chunks(zf, "content.xml"):
                deadline.check(table or None)
                if hidden is not None and b"visibility=" in part:
                    _ods_hidden_columns(part, table, hid_cols)
                for m in _ODS_TAG.finditer(part):
                    kind, attrs, slash = m.groups()
                    if kind is None:  # </table:table-row>
                        if row_cols:
                            rows, cols = row + rep, max(cols, row_cols)
                        row += rep
                        continue
                    if kind == b"table":
                        if table:
                            out[table] = (rows, cols)
                        found = _TABLE_NAME.search(attrs)
                        table = found.group(1).decode("utf-8", "replace") if found else f"表{len(out) + 1}"
                        row = rows = cols = 0
                        continue
                    if kind == b"table-row":
                        found = _ROWS_REPEATED.search(attrs)
                        rep = int(found.group(1)) if found else 1
                        col = row_cols = 0
                        if hidden is not None and _INVISIBLE.search(attrs):
                            hid_rows.setdefault(table, []).append((row + 1, rep))
                        if slash:
                            row += rep
                        continue
                    found = _COLS_REPEATED.search(attrs)
                    n = int(found.group(1)) if found else 1
                    if (not slash or b"value-type" in attrs) and kind == b"table-cell":
                        row_cols = col + n
                    col += n
                    if row_cols and (row + rep) * max(cols, row_cols) > limits.value(limits.CELLS):
                        _refuse_extent(row + rep, max(cols, row_cols), name, table)
            if table:
                out[table] = (rows, cols)
    except ZIP_ERRORS as exc:
        raise IngestError("OpenDocument 表格（.ods）已损坏或不完整", file=name) from exc
    if hidden is not None:
        for sheet, (r, c) in out.items():
            found_rows = {x for a, k in hid_rows.get(sheet, []) for x in range(a, min(a + k, r + 1))}
            found_cols = {x for a, k in hid_cols.get(sheet, []) for x in range(a, min(a + k, c + 1))}
            if found_rows or found_cols:
                hidden[sheet] = (found_rows, found_cols)
    for sheet, (r, c) in out.items():
        _refuse_extent(r, c, name, sheet)
    return out


def _ods_hidden_columns(part: bytes, table: str, found: dict[str, list[tuple[int, int]]]) -> None:
    """Hidden ``table-column`` runs of the tables in this chunk of ``content.xml`` (columns are
    declared before a table's rows, so a chunk's columns belong to the table its tags open)."""
    col = 1
    for m in re.finditer(rb"<table:table(?=[\s>])([^>]*)>|<table:table-column(?=[\s/>])([^>]*?)/?>", part):
        table_attrs, attrs = m.groups()
        if table_attrs is not None:
            named = _TABLE_NAME.search(table_attrs)
            table = named.group(1).decode("utf-8", "replace") if named else table
            col = 1
            continue
        repeated = _COLS_REPEATED.search(attrs)
        n = int(repeated.group(1)) if repeated else 1
        if _INVISIBLE.search(attrs):
            found.setdefault(table, []).append((col, n))
        col += n

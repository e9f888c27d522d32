"""One streaming pass over each sheet of an ``.xlsx`` before calamine reads it: the used range from the
cells present, hidden rows and columns, and far stray cells.

calamine (like every reader) allocates the dense range from A1 to the last cell *with a value*, so a
single stray cell at XFD1048576 asks for 17 billion cells and aborts the process. The sheet XML is
therefore inflated in chunks and its cell tags counted with a byte regex (``<c r="B7" ...>``; an empty
styled cell ``<c r="B7" s="3"/>`` holds no value, and calamine ignores it and the ``<dimension>`` tag
too, so do we). From the counts per column and per row the used range is known without building it.

Far stray cells: when the used range is over a limit (:mod:`hub.ingest.limits`) only because of a few
cells (at most :data:`MAX_STRAY`) lying beyond an empty gap of rows or columns, those cells are not
data: they are left out of the read (the sheet is copied without them) and named in a warning, so the
clerk's ledger goes in. A sheet that is really that large is refused with its extent.

Hidden rows and columns (calamine does not expose them): ``<row ... hidden="1">`` and
``<col ... hidden="1">`` in the same pass.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from hub.errors import IngestError
from hub.ingest import limits
from hub.sheetxml import column_letter

CHUNK = 4 << 20
MAX_STRAY = 20  # at most this many cells beyond an empty gap are treated as strays, not data
MAX_XML_PART = 20 << 20  # workbook.xml and its rels are parsed whole: no bigger than this
PROLOG = 64 << 10  # a DOCTYPE can only precede the root element: this much is looked at

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Za-z]{1,4})(\d{1,9})"[^>]*?(/?)>')
# the form every common writer uses (``r`` first, no prefix): no lazy quantifier, no backtracking
_CELL_FAST = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"[^>/]*(/?)>')
_ANY_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_TAG = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*?)(/?)>")
_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_COL = re.compile(rb"<(?:\w+:)?col\b[^>]*>")
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_R = re.compile(rb'\br="(\d+)"')
_REF = re.compile(rb'\br="([A-Za-z]{1,4})(\d{1,9})"')
_MIN = re.compile(rb'\bmin="(\d+)"')
_MAX = re.compile(rb'\bmax="(\d+)"')
_FULL_CELL = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?\br="([A-Za-z]{1,4})(\d{1,9})"[^>]*?(?:/>|>.*?</(?:\w+:)?c>)', re.S
)


def col_number(letters: bytes | str) -> int:
    """``A`` → 1, ``XFD`` → 16384."""
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    """1 → A, 27 → AA (Excel's column numbers)."""
    return column_letter(n - 1) if n > 0 else ""


@dataclass
class SheetScan:
    """What one pass over a sheet's XML found."""

    name: str
    member: str
    cols: Counter[int] = field(default_factory=Counter)  # column → cells with a value
    rows: Counter[int] = field(default_factory=Counter)  # row → cells with a value
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    last_row: int = 0  # the used range after strays are left out (0: no cell)
    last_col: int = 0
    strays: list[str] = field(default_factory=list)  # A1-style references left out
    cut_row: int | None = None  # cells below / right of these are strays
    cut_col: int | None = None

    @property
    def cells(self) -> int:
        return sum(self.cols.values())


def xml_guard(zf: zipfile.ZipFile, member: str, file: str) -> None:
    """Refuse a part that declares a DTD (entity expansion, "billion laughs") or whose root element
    does not start within its first :data:`PROLOG` bytes."""
    with zf.open(member) as fh:
        head = fh.read(PROLOG)
    at = 0
    while True:
        lt = head.find(b"<", at)
        if lt < 0 or lt + 1 >= len(head):
            if len(head) < PROLOG and not head.strip():
                return  # an empty part: calamine reports it if it matters
            raise IngestError(
                f"Excel 文件中的“{member}”结构异常（找不到根元素），疑似恶意构造，已拒绝", file=file
            )
        nxt = head[lt + 1 : lt + 2]
        if nxt == b"?":
            at = head.find(b"?>", lt) + 2 if head.find(b"?>", lt) >= 0 else len(head)
        elif head.startswith(b"<!--", lt):
            end = head.find(b"-->", lt)
            at = end + 3 if end >= 0 else len(head)
        elif nxt == b"!":
            raise IngestError(
                f"Excel 文件中的“{member}”含有 DTD/实体声明（Excel 从不写入，可用于“实体膨胀”攻击），已拒绝",
                file=file,
                hint="请用 Excel 或 WPS 打开后另存为 .xlsx 再上传。",
            )
        else:
            return


def sheet_parts(zf: zipfile.ZipFile, file: str) -> dict[str, str]:
    """Sheet name → zip member of its XML (worksheets only; chart sheets have none)."""
    names = set(zf.namelist())
    for part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if part not in names:
            raise IngestError(f"Excel 文件不完整：缺少“{part}”", file=file)
        if zf.getinfo(part).file_size > MAX_XML_PART:
            raise IngestError(f"Excel 文件结构异常：“{part}”过大", file=file)
        xml_guard(zf, part, file)
    try:
        workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (ElementTree.ParseError, LookupError, ValueError) as exc:
        raise IngestError(f"Excel 文件已损坏（工作簿结构无法解析：{exc}）", file=file) from exc
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out: dict[str, str] = {}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        if not target:
            continue
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        if member in names:
            out[sheet.get("name", "")] = member
    return out


def _chunks(zf: zipfile.ZipFile, member: str, cut_at: re.Pattern[bytes] | None = None):  # type: ignore[no-untyped-def]
    """The member's bytes in pieces that end before a tag (the last ``<``, or the last match of
    ``cut_at``), so no tag is split."""
    with zf.open(member) as fh:
        tail = b""
        while True:
            chunk = fh.read(CHUNK)
            data = tail + chunk
            if not chunk:
                yield data
                return
            cut = -1
            if cut_at is not None:
                starts = [m.start() for m in cut_at.finditer(data, max(0, len(data) - CHUNK // 2))]
                cut = starts[-1] if starts else -1
            if cut < 0:
                cut = data.rfind(b"<")
            cut = len(data) if cut < 0 else cut
            yield data[:cut]
            tail = data[cut:]


def scan_sheet(zf: zipfile.ZipFile, name: str, member: str, deadline: limits.Deadline) -> SheetScan:
    scan = SheetScan(name, member)
    xml_guard(zf, member, deadline.file)
    implicit = False
    implicit_row = 0
    for part in _chunks(zf, member):
        deadline.check(name)
        found = _CELL_FAST.findall(part)
        tags = part.count(b"<c ") + part.count(b"<c>")
        if len(found) != tags or (not tags and b"c " in part):  # other forms: the general pattern
            found = _CELL.findall(part)
            implicit = implicit or len(found) != len(_ANY_CELL.findall(part))
        valued = [(c, r) for c, r, slash in found if not slash]
        for letters, n in Counter(c for c, _ in valued).items():
            scan.cols[col_number(letters)] += n
        for digits, n in Counter(r for _, r in valued).items():
            scan.rows[int(digits)] += n
        if b"hidden=" in part or b"<row>" in part:
            for m in _ROW.finditer(part):
                tag = m.group(0)
                r = _R.search(tag)
                implicit_row = int(r.group(1)) if r else implicit_row + 1
                if _HIDDEN.search(tag):
                    scan.hidden_rows.add(implicit_row)
            for m in _COL.finditer(part):
                tag = m.group(0)
                lo, hi = _MIN.search(tag), _MAX.search(tag)
                if _HIDDEN.search(tag) and lo and hi:
                    scan.hidden_cols.update(range(int(lo.group(1)), min(int(hi.group(1)), 16384) + 1))
    if implicit:  # some cells carry no reference: count positions the way calamine does
        scan.cols, scan.rows = _implicit_positions(zf, member, deadline, name)
    scan.last_row = max(scan.rows, default=0)
    scan.last_col = max(scan.cols, default=0)
    return scan


def _implicit_positions(
    zf: zipfile.ZipFile, member: str, deadline: limits.Deadline, name: str
) -> tuple[Counter[int], Counter[int]]:
    """Cell positions when some ``<row>``/``<c>`` tags have no ``r``: the next row / next column."""
    cols: Counter[int] = Counter()
    rows: Counter[int] = Counter()
    row, col = 0, 0
    for part in _chunks(zf, member):
        deadline.check(name)
        for m in _TAG.finditer(part):
            kind, attrs, slash = m.groups()
            if kind == b"row":
                r = _R.search(attrs)
                row = int(r.group(1)) if r else row + 1
                col = 0
                continue
            ref = _REF.search(attrs)
            if ref:
                col, row = col_number(ref.group(1)), int(ref.group(2))
            else:
                col += 1
            if not slash:
                cols[col] += 1
                rows[row] += 1
    return cols, rows


FAR_ROWS = 1000  # a few cells below this many empty rows (and more than the body's own height) are strays
FAR_COLS = 100  # ... to the right of this many empty columns (and more than the body's width)


def _tail_cut(counts: Counter[int], far: int | None) -> int | None:
    """The last key to keep when the keys beyond an empty gap hold at most :data:`MAX_STRAY` cells
    (the qualifying gap closest to the body); None when there is none. ``far``: the gap must be at
    least that and at least the body's own extent (None: any gap of one empty row or column)."""
    keys = sorted(counts)
    tail = 0
    best = None
    for i in range(len(keys) - 1, 0, -1):
        tail += counts[keys[i]]
        if tail > MAX_STRAY:
            break
        gap = keys[i] - keys[i - 1] - 1
        if gap >= 1 and (far is None or gap >= max(far, keys[i - 1])):
            best = keys[i - 1]
    return best


def _over(rows: int, cols: int) -> bool:
    return (
        rows > limits.value(limits.ROWS)
        or cols > limits.value(limits.COLUMNS)
        or rows * cols > limits.value(limits.CELLS)
        or rows * cols * limits.BYTES_PER_CELL / limits.MB > limits.value(limits.READ_MB)
    )


def _collect(
    zf: zipfile.ZipFile, scan: SheetScan, deadline: limits.Deadline, cut_col: int | None, cut_row: int | None
) -> list[tuple[int, int, str]]:
    """(column, row, reference) of the cells with a value right of ``cut_col`` or below ``cut_row``."""
    out = []
    for part in _chunks(zf, scan.member):
        deadline.check(scan.name)
        for c, r, slash in _CELL.findall(part):
            col, row = col_number(c), int(r)
            if not slash and ((cut_col and col > cut_col) or (cut_row and row > cut_row)):
                out.append((col, row, f"{c.decode().upper()}{row}"))
    return out


def plan(zf: zipfile.ZipFile, scan: SheetScan, deadline: limits.Deadline) -> None:
    """Decide the sheet's strays and check its used range against the limits (LimitError).

    Strays: at most :data:`MAX_STRAY` cells beyond an empty gap, either far (a gap of at least
    :data:`FAR_COLS` columns / :data:`FAR_ROWS` rows and more than the body's extent) or, when the
    used range is over a limit, beyond any empty gap. Far columns are looked at first (a stray to the
    right), then far rows (a stray below); their cells are found by a second pass, only then."""
    over = _over(scan.last_row, scan.last_col)
    cut_col = _tail_cut(scan.cols, None if over else FAR_COLS)
    cut_row = _tail_cut(scan.rows, None if over else FAR_ROWS)
    where = f"A1:{col_letters(scan.last_col)}{scan.last_row}"
    if cut_col is None and cut_row is None:
        if over:  # no few strays explain it: the sheet is that large
            limits.check_extent(scan.last_row, scan.last_col, deadline.file, scan.name, where)
        return
    cols, rows = Counter(scan.cols), Counter(scan.rows)
    left_out: list[str] = []
    if cut_col is not None:
        for col, row, ref in _collect(zf, scan, deadline, cut_col, None):
            cols[col] -= 1
            rows[row] -= 1
            left_out.append(ref)
        cols, rows = +cols, +rows
    cut_row = _tail_cut(rows, None if _over(max(rows, default=0), max(cols, default=0)) else FAR_ROWS)
    if cut_row is not None:
        for col, row, ref in _collect(zf, scan, deadline, None, cut_row):
            if ref not in left_out:
                cols[col] -= 1
                rows[row] -= 1
                left_out.append(ref)
        cols, rows = +cols, +rows
    last_row, last_col = max(rows, default=0), max(cols, default=0)
    if _over(last_row, last_col):
        limits.check_extent(scan.last_row, scan.last_col, deadline.file, scan.name, where)
    scan.cols, scan.rows, scan.last_row, scan.last_col = cols, rows, last_row, last_col
    scan.strays, scan.cut_col, scan.cut_row = left_out, cut_col, cut_row


def check_shared_strings(zf: zipfile.ZipFile, member: str, file: str) -> None:
    """calamine reserves the ``uniqueCount`` the shared-strings part declares: refuse a count the
    part cannot hold (each string takes at least 5 bytes, ``<si/>``)."""
    with zf.open(member) as fh:
        head = fh.read(PROLOG)
    found = re.search(rb'uniqueCount="(\d+)"', head)
    if found and int(found.group(1)) > zf.getinfo(member).file_size // 5 + 1:
        raise IngestError(
            f"Excel 文件中的共享字符串表声明了 {int(found.group(1)):,} 个字符串，与其内容不符，疑似恶意构造，已拒绝",
            file=file,
            hint="请用 Excel 或 WPS 打开后另存为 .xlsx 再上传。",
        )


def without_strays(path: Path, scans: list[SheetScan], out: Path, deadline: limits.Deadline) -> None:
    """A copy of the workbook at ``out`` whose sheets lack their stray cells (other parts as they are)."""
    by_member = {s.member: s for s in scans if s.strays}

    def keep(m: re.Match[bytes], s: SheetScan) -> bytes:
        col, row = col_number(m.group(1)), int(m.group(2))
        if (s.cut_col is not None and col > s.cut_col) or (s.cut_row is not None and row > s.cut_row):
            return b""
        return m.group(0)

    with (
        zipfile.ZipFile(path) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            scan = by_member.get(info.filename)
            if scan is None:
                with src.open(info) as fh, dst.open(_plain(info), "w", force_zip64=True) as sink:
                    while block := fh.read(CHUNK):
                        sink.write(block)
                continue
            with dst.open(_plain(info), "w", force_zip64=True) as sink:
                for part in _chunks(src, info.filename, cut_at=_ANY_CELL):
                    deadline.check(scan.name)
                    sink.write(_FULL_CELL.sub(lambda m, s=scan: keep(m, s), part))  # type: ignore[misc]


def _plain(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out.compress_type = zipfile.ZIP_DEFLATED
    return out

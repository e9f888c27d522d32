"""The reader registry: one reader per file format, the format recognised from the file's bytes.

A reader takes a path (and the file's :class:`~hub.ingest.limits.Deadline`) and returns every sheet
as a :class:`RawSheet`. The format is decided by :func:`sniff` from the content, never the suffix: a
zip holding ``xl/workbook.xml`` is an ``.xlsx``, ``xl/workbook.bin`` an ``.xlsb``, an OpenDocument
``mimetype`` an ``.ods``, an OLE2 compound file an ``.xls``, anything else that is text a CSV; a file
renamed ``.xls`` that is really ``.xlsx`` (or CSV) reads as what it is. An image, a PDF, a Word
document, an HTML page saved as ``.xls`` or any other binary is refused with the list of accepted
formats. The built-in readers (:mod:`hub.ingest.workbook`, :mod:`hub.ingest.textfile`) register
themselves here; a new format is one more ``@register_reader`` and one more rule in :func:`sniff`.

Checks common to every format (missing, empty or oversized file) run before the reader; the limits
on what a file may make the hub do are in :mod:`hub.ingest.limits`. What a reader noticed without
refusing the file (a far stray cell left out, a CSV line with an unbalanced quote) travels as
``RawSheet.notes`` and becomes a warning finding of the submission (:func:`notes_as_findings`).
"""

from __future__ import annotations

import codecs
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import IngestError
from hub.ingest import limits
from hub.ingest.types import RawSheet

if TYPE_CHECKING:
    import pyarrow as pa

Reader = Callable[[Path, limits.Deadline], list[RawSheet]]

_READERS: dict[str, Reader] = {}
_SUFFIXES: dict[str, str] = {}  # suffix → format, for the list of accepted files
DEFAULT_MAX_UPLOAD_MB = 200
ACCEPTED = (
    "Excel 工作簿（.xlsx .xlsm .xlsb .xls）、WPS/LibreOffice 表格（.ods）、"
    "文本表格（.csv .tsv .txt，UTF-8 或 GBK 编码）"
)
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
MAX_RATIO = 200
# what reading a broken zip can raise (zlib.error: a corrupt deflate stream; NotImplementedError: an
# unknown compression method; struct.error: a truncated header)
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    OSError,
    EOFError,
    KeyError,
    ValueError,
    NotImplementedError,
    UnicodeDecodeError,
)
RATIO_MIN_SIZE = 10 << 20  # ratios only matter for members above 10 MiB
MAX_MEMBERS = 10_000


def register_reader(fmt: str, *suffixes: str) -> Callable[[Reader], Reader]:
    """Register ``fn`` as the reader of format ``fmt`` (a name :func:`sniff` returns); ``suffixes``
    (with the dot) are the usual file names of the format, listed to the user."""

    def deco(fn: Reader) -> Reader:
        _READERS[fmt] = fn
        for suffix in suffixes:
            _SUFFIXES[suffix.lower()] = fmt
        return fn

    return deco


def supported_suffixes() -> list[str]:
    _load_builtins()
    return sorted(_SUFFIXES)


def max_upload_bytes() -> int:
    raw = os.environ.get("HUB_MAX_UPLOAD_MB", "")
    try:
        mb = float(raw) if raw.strip() else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        mb = DEFAULT_MAX_UPLOAD_MB
    return int(mb * 1024 * 1024)


def check_file(path: Path) -> None:
    """Raise :class:`IngestError` for a missing, empty or oversized file."""
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"无法读取文件：{exc.strerror or exc}", file=name) from exc
    if not path.is_file():
        raise IngestError("不是一个文件", file=name)
    if size == 0:
        raise IngestError("文件是空的（0 字节）", file=name, hint="请检查是否上传了正确的文件。")
    limit = max_upload_bytes()
    if size > limit:
        raise IngestError(
            f"文件太大：{size / 1048576:.1f} MB，超过上限 {limit / 1048576:.0f} MB",
            file=name,
            hint="请按村或按表拆分后分别上传。",
            details={"size": size, "limit": limit},
        )


def check_zip(path: Path) -> list[zipfile.ZipInfo]:
    """Refuse a corrupt zip or a decompression bomb, looking only at the zip directory."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except ZIP_ERRORS as exc:
        raise IngestError("Excel 文件已损坏或不完整（无法打开压缩包结构）", file=path.name) from exc
    if len(infos) > MAX_MEMBERS:
        raise IngestError(f"Excel 文件结构异常：包含 {len(infos)} 个部件", file=path.name)
    total = sum(i.file_size for i in infos)
    if total > limits.value(limits.INFLATED_MB) * limits.MB:
        raise IngestError(
            f"Excel 文件解压后过大（{total / limits.MB:.0f} MB，上限 "
            f"{limits.value(limits.INFLATED_MB):.0f} MB），疑似压缩炸弹，已拒绝",
            file=path.name,
            hint=limits._HINTS[limits.INFLATED_MB.env],
            details={"inflated": total},
        )
    for info in infos:
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise IngestError(
                f"Excel 文件中的“{info.filename}”压缩比异常（{info.file_size // max(info.compress_size, 1)} 倍），"
                "疑似压缩炸弹，已拒绝",
                file=path.name,
            )
    return infos


def _refuse(what: str, name: str, hint: str | None = None) -> IngestError:
    return IngestError(f"{what}，不是可导入的表格", file=name, hint=hint or f"可导入的格式：{ACCEPTED}。")


def sniff(path: Path) -> str:
    """The file's format from its bytes: ``xlsx``, ``xlsb``, ``ods``, ``xls`` or ``text``."""
    name = path.name
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        check_zip(path)  # a decompression bomb is refused from the zip directory, whatever it holds
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                mime = zf.read("mimetype")[:100] if "mimetype" in names else b""
        except ZIP_ERRORS as exc:
            raise IngestError(
                "Excel 文件已损坏或不完整（无法打开压缩包结构）",
                file=name,
                hint="请重新保存或重新导出后再上传。",
            ) from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "xl/workbook.bin" in names:
            return "xlsb"
        if mime.startswith(ODS_MIME) and "content.xml" in names:
            return "ods"
        if "word/document.xml" in names:
            raise _refuse("文件是 Word 文档", name)
        if "ppt/presentation.xml" in names:
            raise _refuse("文件是 PowerPoint 演示文稿", name)
        if mime.startswith(b"application/vnd.oasis.opendocument"):
            raise _refuse("文件是 OpenDocument 文字或演示文稿", name)
        if any(n.startswith("xl/") for n in names):
            raise IngestError(
                "Excel 文件已损坏或不完整（缺少工作簿部件）",
                file=name,
                hint="请用 Excel 或 WPS 打开后另存为 .xlsx 再上传。",
            )
        raise _refuse("文件是一个压缩包（zip）", name, f"请解压后上传其中的表格。可导入的格式：{ACCEPTED}。")
    if head.startswith(OLE_MAGIC):
        return "xls"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"\xef\xbb\xbf<")):
        raise IngestError(
            "文件实际是网页（HTML/XML）格式，不是真正的 Excel 工作簿",
            file=name,
            hint="请用 Excel 打开后“另存为” .xlsx 再上传。",
        )
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"%PDF", b"GIF8", b"BM")):
        raise _refuse("文件内容是图片或 PDF（扩展名可能被改过），不是文本表格也不是 Excel 工作簿", name)
    if head.startswith((b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"BZh")):
        raise _refuse("文件是一个压缩包", name, f"请解压后上传其中的表格。可导入的格式：{ACCEPTED}。")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _refuse("文件内容不是文本表格，也不是能识别的工作簿（未知的二进制格式）", name)
    return "text"


def _load_builtins() -> None:
    from hub.ingest import textfile, workbook  # noqa: F401  (registration side effect)


def read_sheets(path: Path) -> list[RawSheet]:
    """Read every sheet of ``path`` (a CSV file is one sheet named after the file), by content."""
    path = Path(path)
    from hub.ingest import bounded

    if (bound := bounded.current()) is not None:  # an upload job: in a child it can stop (bounded.py)
        check_file(path)
        return bounded.read_in_child(path, bound)
    _load_builtins()
    check_file(path)
    fmt = sniff(path)
    deadline = limits.Deadline(path.name)
    try:
        sheets = _READERS[fmt](path, deadline)
    except MemoryError as exc:  # the estimate let through a file the machine could not hold
        raise limits.refuse(limits.READ_MB, limits.value(limits.READ_MB) + 1, path.name) from exc
    limits.check(limits.SHEETS, len(sheets), path.name)
    return sheets


def note(
    sheet: str, row: int, code: str, message: str, column: str | None = None, value: str | None = None
) -> dict[str, Any]:
    """A reader's warning about one place of a sheet (the shape of a finding)."""
    return {
        "sheet": sheet,
        "row": row,
        "column": column,
        "value": value,
        "code": code,
        "severity": "warning",
        "message": message,
    }


def notes_as_findings(notes: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Reader notes as rows of a ``Validated.findings`` table of ``schema`` (stored with the
    submission like any finding; the annotated copy marks their rows)."""
    import pyarrow as pa

    rows = [
        {
            "sheet": n["sheet"],
            "row_no": n["row"],
            "column_name": n.get("column"),
            "field": None,
            "value": n.get("value"),
            "code": n["code"],
            "severity": n.get("severity", "warning"),
            "message": n["message"],
        }
        for n in notes
    ]
    return pa.Table.from_pylist(rows, schema=schema)

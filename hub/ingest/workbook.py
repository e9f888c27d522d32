"""Excel reader (``.xlsx``, ``.xlsm``, ``.xls``) with python-calamine.

The format is decided by the file's first bytes, not its suffix (an ``.xls`` that is really an
``.xlsx`` reads fine; an HTML page or a PNG renamed ``.xlsx`` is refused with a clear message).
Zip workbooks are checked for decompression bombs from the zip directory *before* calamine sees
them: total declared uncompressed size over :data:`MAX_TOTAL_INFLATED`, or a member over
:data:`RATIO_MIN_SIZE` with a compression ratio over :data:`MAX_RATIO`, is refused.

Row numbers: ``to_python(skip_empty_area=False)`` returns the sheet from A1, so list index ``i`` is
Excel row ``i + 1`` even when the used range starts lower. Merged ranges come 0-based from calamine
and are stored 1-based. Hidden rows and columns are not exposed by calamine; for ``.xlsx`` they are
found by a streaming byte scan of the sheet XML (:mod:`hub.ingest.hidden`); for legacy ``.xls``
they are not detected (documented limitation).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from hub.errors import IngestError
from hub.ingest.readers import register_reader
from hub.ingest.render import rows_to_table
from hub.ingest.types import RawSheet

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_TOTAL_INFLATED = 1 << 30  # 1 GiB
MAX_RATIO = 200
RATIO_MIN_SIZE = 10 << 20  # ratios only matter for members above 10 MiB
MAX_MEMBERS = 10_000


def _sniff(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"\xef\xbb\xbf<")):
        raise IngestError(
            "文件实际是网页（HTML/XML）格式，不是真正的 Excel 工作簿",
            file=path.name,
            hint="请用 Excel 打开后“另存为” .xlsx 再上传。",
        )
    if head.startswith(b"\x89PNG") or head[:3] == b"\xff\xd8\xff" or head.startswith(b"%PDF"):
        raise IngestError("文件内容是图片或 PDF，不是 Excel 工作簿（扩展名被改过）", file=path.name)
    raise IngestError("文件不是有效的 Excel 工作簿（文件头无法识别，可能已损坏）", file=path.name)


def check_zip(path: Path) -> None:
    """Refuse a corrupt zip or a decompression bomb, looking only at the zip directory."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise IngestError("Excel 文件已损坏或不完整（无法打开压缩包结构）", file=path.name) from exc
    if len(infos) > MAX_MEMBERS:
        raise IngestError(f"Excel 文件结构异常：包含 {len(infos)} 个部件", file=path.name)
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_INFLATED:
        raise IngestError(
            f"Excel 文件解压后过大（{total / 1048576:.0f} MB），疑似压缩炸弹，已拒绝",
            file=path.name,
            details={"inflated": total},
        )
    for info in infos:
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise IngestError(
                f"Excel 文件中的“{info.filename}”压缩比异常（{info.file_size // max(info.compress_size, 1)} 倍），"
                "疑似压缩炸弹，已拒绝",
                file=path.name,
            )


def _open(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise IngestError(f"Excel 文件已损坏或无法解析：{exc}", file=path.name) from exc


@register_reader(".xlsx", ".xlsm", ".xls")
def read_workbook(path: Path) -> list[RawSheet]:
    fmt = _sniff(path)
    hidden: dict[str, tuple[set[int], set[int]]] = {}
    if fmt == "zip":
        check_zip(path)
        from hub.ingest.hidden import hidden_rows_and_cols

        try:
            hidden = hidden_rows_and_cols(path)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
            raise IngestError("Excel 文件已损坏或不完整", file=path.name) from exc
    wb = _open(path)
    epoch_1904 = False
    sheets: list[RawSheet] = []
    try:
        for meta in wb.sheets_metadata:
            if str(getattr(meta, "typ", "")).endswith("ChartSheet"):
                continue
            try:
                sheet = wb.get_sheet_by_name(meta.name)
                rows = sheet.to_python(skip_empty_area=False)
                merged = [
                    (r0 + 1, c0 + 1, r1 + 1, c1 + 1)
                    for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
                ]
            except Exception as exc:
                raise IngestError(
                    f"工作表无法读取（文件可能已损坏）：{exc}", file=path.name, sheet=meta.name
                ) from exc
            rows_hidden, cols_hidden = hidden.get(meta.name, (set(), set()))
            sheets.append(
                RawSheet(
                    name=meta.name,
                    table=rows_to_table(rows),
                    merged=merged,
                    hidden_rows=rows_hidden,
                    hidden_cols=cols_hidden,
                    epoch_1904=epoch_1904,
                )
            )
    finally:
        wb.close()
    return sheets

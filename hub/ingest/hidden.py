"""Hidden rows and columns of an ``.xlsx``: calamine does not expose them, openpyxl's read-only mode
does not either, and a full openpyxl load is far too slow for big sheets. So each sheet's XML is
streamed from the zip and scanned for ``<row ... hidden="1">`` and ``<col ... hidden="1">`` tags with
a byte regex, looking only at chunks that contain ``hidden=`` at all (cost: one inflate pass).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

CHUNK = 4 << 20
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_COL = re.compile(rb"<(?:\w+:)?col\b[^>]*>")
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_R = re.compile(rb'\br="(\d+)"')
_MIN = re.compile(rb'\bmin="(\d+)"')
_MAX = re.compile(rb'\bmax="(\d+)"')


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → zip member of its XML."""
    workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out: dict[str, str] = {}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        if not target:
            continue
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        out[sheet.get("name", "")] = member
    return out


def _scan(zf: zipfile.ZipFile, member: str) -> tuple[set[int], set[int]]:
    rows: set[int] = set()
    cols: set[int] = set()
    implicit_row = 0  # rows without r= are numbered consecutively
    with zf.open(member) as fh:
        tail = b""
        while True:
            chunk = fh.read(CHUNK)
            data = tail + chunk
            if not chunk:
                cut = len(data)
            else:
                cut = data.rfind(b"<")
                cut = len(data) if cut < 0 else cut
            part, tail = data[:cut], data[cut:]
            if b"hidden=" in part or b"<row>" in part:
                for m in _ROW.finditer(part):
                    tag = m.group(0)
                    r = _R.search(tag)
                    implicit_row = int(r.group(1)) if r else implicit_row + 1
                    if _HIDDEN.search(tag):
                        rows.add(implicit_row)
                for m in _COL.finditer(part):
                    tag = m.group(0)
                    lo, hi = _MIN.search(tag), _MAX.search(tag)
                    if _HIDDEN.search(tag) and lo and hi:
                        cols.update(range(int(lo.group(1)), min(int(hi.group(1)), 16384) + 1))
            if not chunk:
                break
    return rows, cols


def hidden_rows_and_cols(path: Path) -> dict[str, tuple[set[int], set[int]]]:
    """Sheet name → (hidden 1-based rows, hidden 1-based columns)."""
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
            return {}
        return {name: _scan(zf, member) for name, member in sheet_parts(zf).items() if member in names}

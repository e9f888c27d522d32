"""How much one uploaded file may make the hub do: rows, columns, cells, decompressed size, memory
and time, each with a county-sized default and an environment override (docs/limits.md).

Every reader checks the file against these *before* the heavy library allocates anything (the zip
directory, a streaming scan of the sheet XML, the record stream of an ``.xlsb``, the text of a CSV);
a file over a limit is refused with :class:`LimitError`: which file, which sheet, which limit, and what
the clerk can do (split the file), in Chinese. Never a crash, never an out-of-memory.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.errors import IngestError

if TYPE_CHECKING:
    import pyarrow as pa

MB = 1 << 20


@dataclass(frozen=True)
class Limit:
    env: str
    default: float
    label: str  # what is counted, in Chinese


ROWS = Limit("HUB_MAX_ROWS", 1_048_576, "行数")  # Excel's own sheet limit; a county CSV fits
COLUMNS = Limit("HUB_MAX_COLUMNS", 500, "列数")
CELLS = Limit("HUB_MAX_CELLS", 15_000_000, "单元格数")  # 1,048,576 rows × 14 columns
CELL_CHARS = Limit("HUB_MAX_CELL_CHARS", 32_767, "单元格字符数")  # Excel's own limit per cell
INFLATED_MB = Limit("HUB_MAX_INFLATED_MB", 1024, "解压后大小（MB）")
READ_MB = Limit("HUB_MAX_READ_MB", 4096, "读取所需内存（MB）")
SECONDS = Limit("HUB_MAX_READ_SECONDS", 120, "读取时间（秒）")
SHEETS = Limit("HUB_MAX_SHEETS", 100, "工作表数")
# measured, not estimated: the resident memory of the process reading one file of an upload job
# (hub/ingest/bounded.py); the job's ceiling
JOB_MEMORY_MB = Limit("HUB_JOB_MAX_MEMORY_MB", 1536, "读取所用内存（MB）")

ALL = (ROWS, COLUMNS, CELLS, CELL_CHARS, INFLATED_MB, READ_MB, SECONDS, SHEETS, JOB_MEMORY_MB)

# Not a limit (nothing is refused): the size of a daily upload (a village's ledger). A job whose files
# are at most this size in all has the small jobs' workers (hub/serve/jobs.py); a file over it is read
# at a lower CPU priority (hub/ingest/bounded.py). One setting, so that the two agree.
SMALL_UPLOAD_MB = Limit("HUB_SMALL_UPLOAD_MB", 2, "日常上传大小（MB）")

# Bytes of memory one cell costs while it is read (calamine's cell, the Python object, Arrow's copy):
# measured on the duplicate-row and random ledgers of benchmarks/bench_hostile.py, rounded up.
BYTES_PER_CELL = 200
BYTES_PER_TEXT_BYTE = 6  # a CSV: the bytes, the decoded str, the UTF-8 copy pyarrow parses, the table


def value(limit: Limit) -> float:
    """The limit in force: ``$env`` when it is a positive number, else the default."""
    raw = os.environ.get(limit.env, "").strip()
    try:
        number = float(raw) if raw else limit.default
    except ValueError:
        number = limit.default
    return number if number > 0 else limit.default


def ivalue(limit: Limit) -> int:
    return int(value(limit))


@dataclass
class LimitError(IngestError):
    """A file over one of the limits: refused before it is read in full."""

    code: str = "limit-exceeded"


def refuse(
    limit: Limit, found: float, file: str, sheet: str | None = None, where: str | None = None
) -> LimitError:
    """The error for ``found`` over ``limit`` in ``file`` (``sheet``; ``where``: the range, e.g.
    ``A1:XFD5000``)."""
    allowed = value(limit)
    shown = f"{found:,.0f}" if found >= 10 else f"{found:g}"
    at = f"（使用范围 {where}）" if where else ""
    return LimitError(
        f"{limit.label}超过上限{at}：{shown}，上限 {allowed:,.0f}，未导入",
        file=file,
        sheet=sheet,
        hint=_HINTS.get(limit.env, "请拆分后分别上传。").format(n=f"{allowed:,.0f}"),
        details={"limit": limit.env, "found": found, "allowed": allowed},
    )


_HINTS = {
    ROWS.env: "请把文件拆成每份不超过 {n} 行（例如按村）后分别上传。",
    COLUMNS.env: "请删除与台账无关的列（或多余的空白列），每张表不超过 {n} 列。",
    CELLS.env: "请按村或按表拆分，每份不超过 {n} 个单元格。",
    CELL_CHARS.env: "单元格内容过长，请检查是否粘贴了整段文字，每格不超过 {n} 个字符。",
    INFLATED_MB.env: "请按村或按表拆分后分别上传，或删去图片等附件后另存。",
    READ_MB.env: "请把文件拆小（例如按村）后分别上传。",
    SECONDS.env: "请把文件拆小（例如按村）后分别上传。",
    JOB_MEMORY_MB.env: "请把文件拆小（例如按村）后分别上传；如确需一次导入，请联系数据管理员。",
    SHEETS.env: "请只保留台账所在的工作表，每份不超过 {n} 个工作表。",
}


def hint(limit: Limit) -> str:
    """What the clerk can do about ``limit``, in Chinese."""
    return _HINTS.get(limit.env, "请拆分后分别上传。").format(n=f"{value(limit):,.0f}")


def check(limit: Limit, found: float, file: str, sheet: str | None = None, where: str | None = None) -> None:
    """Raise :class:`LimitError` when ``found`` is over ``limit``."""
    if found > value(limit):
        raise refuse(limit, found, file, sheet, where)


def check_extent(rows: int, cols: int, file: str, sheet: str | None = None, where: str | None = None) -> None:
    """A sheet's used range (rows × columns, the dense size a reader allocates) against the limits."""
    check(ROWS, rows, file, sheet, where)
    check(COLUMNS, cols, file, sheet, where)
    check(CELLS, rows * cols, file, sheet, where)
    check(READ_MB, rows * cols * BYTES_PER_CELL / MB, file, sheet, where)


def check_file_cells(cells: int, sheets: int, file: str) -> None:
    """All sheets of one file together against :data:`CELLS` (each sheet was checked by its scan):
    the stages after the read (layout, validation, the store's rows and findings, the annotated
    copy) hold the whole file at once, and were measured at about 1.9 GB for 15 million cells
    (docs/benchmarks.md, ``hub ingest`` of a 1,000,000-row CSV)."""
    if sheets > 1 and cells > value(CELLS):
        error = refuse(CELLS, cells, file)
        error.message = error.message.replace(
            "单元格数超过上限", f"单元格数超过上限（{sheets} 个工作表合计）"
        )
        raise error


def job_cells_error(total: int, file: str) -> LimitError:
    """An upload job's files are read before any is stored, so they are in memory together: the file
    that takes the job's total past :data:`CELLS` is refused (the files before it go in)."""
    cap = value(CELLS)
    return LimitError(
        f"本次上传的文件合计单元格数超过上限：{total:,}，上限 {cap:,.0f}，此文件未导入",
        file=file,
        hint="请分批上传：这次已接收的文件不必重传，此文件（及之后被拒收的文件）请另行上传。",
        details={"limit": CELLS.env, "found": total, "allowed": cap, "scope": "job"},
    )


class Deadline:
    """The per-file time limit: :meth:`check` between steps of a read raises once it has passed."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.seconds = value(SECONDS)
        self.start = time.monotonic()

    def check(self, sheet: str | None = None) -> None:
        spent = time.monotonic() - self.start
        if spent > self.seconds:
            raise refuse(SECONDS, spent, self.file, sheet)


def check_cell_chars(table: pa.Table, file: str, sheet: str | None) -> None:
    """Refuse a cell longer than :data:`CELL_CHARS` (Excel's own 32,767): not a ledger cell."""
    import pyarrow.compute as pc

    cap = value(CELL_CHARS)
    for col in table.column_names[1:]:
        lengths = pc.utf8_length(table[col])
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > cap:
            at = pc.index(lengths, longest).as_py()
            raise LimitError(
                f"单元格太长：{longest:,} 个字符，上限 {cap:,.0f}，未导入",
                file=file,
                sheet=sheet,
                row=int(table["_row"][at].as_py()),
                column=f"第{col[1:]}列",
                hint=_HINTS[CELL_CHARS.env].format(n=f"{cap:,.0f}"),
                details={"limit": CELL_CHARS.env, "found": longest, "allowed": cap},
            )

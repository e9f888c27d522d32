"""Recognising a full disk or a failed write, wherever it surfaces (DuckDB, Splink wrapping DuckDB
with its whole SQL, openpyxl through :class:`hub.errors.ValidationEngineError`, a plain OSError), or
the store's memory limit reached, and saying it in one message: what happened, where, and what to do.
No SQL ever reaches the message."""

from __future__ import annotations

import errno
import re
from pathlib import Path

from hub.errors import ResourceError, StoreMemoryError

_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}
_TEXT = re.compile(
    r"No space left on device|Disk quota exceeded|File too large|Read-only file system|"
    r"Input/output error|could not write|failed to write",
    re.IGNORECASE,
)
_PATH = re.compile(r'(?:file|File) "([^"]+)"')


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def disk_failure(exc: BaseException) -> tuple[str, str | None] | None:
    """``(reason, path)`` when ``exc`` (or what caused it) is a full disk or a failed write, else None.
    ``reason`` is short and Chinese; ``path`` the file that could not be written, when known."""
    for item in _chain(exc):
        if isinstance(item, OSError) and item.errno in _ERRNOS:
            return _reason(item.strerror or ""), item.filename if isinstance(item.filename, str) else None
        text = str(item)
        if _TEXT.search(text):
            found = _PATH.search(text)
            return _reason(text), found.group(1) if found else None
    return None


def _reason(text: str) -> str:
    lowered = text.lower()
    if "quota" in lowered:
        return "磁盘配额已用完"
    if "too large" in lowered:
        return "文件超过了系统允许的大小"
    if "read-only" in lowered:
        return "磁盘是只读的"
    if "input/output" in lowered:
        return "磁盘读写出错"
    if "permission denied" in lowered:
        return "没有写入权限"
    if (
        "no space" in lowered
        or not lowered
        or "could not write" not in lowered
        and "failed to write" not in lowered
    ):
        return "磁盘空间不足"
    return "无法写入磁盘"


def disk_error(exc: BaseException, home: Path, doing: str) -> ResourceError | None:
    """The one message for a full disk during ``doing`` (e.g. “导入”), or None for other errors."""
    found = disk_failure(exc)
    if found is None:
        return None
    reason, path = found
    where = path or str(home)
    return ResourceError(
        f"{reason}，{doing}未能完成：无法写入 {where}。已写入的部分完好，数据库可以照常打开（hub status）。",
        file=str(home),
        hint=f"请清理或扩大 {home} 所在的磁盘（至少留出数据库文件大小两倍的空间），然后重新运行同一命令："
        "已完成的步骤不会重做，未完成的会补完。",
        details={"reason": reason, "path": where},
    )


def memory_error(exc: BaseException, doing: str) -> StoreMemoryError | None:
    """The one message when a step of ``doing`` needed more than the store's memory limit
    (``HUB_STORE_MEMORY_MB``: DuckDB spills what it can, but not e.g. the index of a table's primary
    key being written), or None for other errors. Found first at 5,000,000 persons, in the first
    linkage's codes step (5 million new codes in its transaction) under the default 1,024 MB."""
    from hub.store.db import store_memory_mb

    for item in _chain(exc):
        if type(item).__name__ == "OutOfMemoryException" or "Out of Memory Error" in str(item):
            mb = store_memory_mb()
            return StoreMemoryError(
                f"数据库内存不足，{doing}未能完成：这一步需要的内存超过了数据库的内存上限"
                f"（HUB_STORE_MEMORY_MB={mb} MB）。已写入的部分完好，数据库可以照常打开（hub status）。",
                hint=f"请调高 HUB_STORE_MEMORY_MB（例如 {mb * 4}，并为本机其他进程留足内存），然后重新运行同一命令。",
                details={"memory_limit_mb": mb},
            )
    return None

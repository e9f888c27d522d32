"""The reader registry: one reader per file format, chosen by suffix.

A reader takes a path and returns every sheet as a :class:`RawSheet`. The built-in readers
(:mod:`hub.ingest.workbook` for ``.xlsx/.xlsm/.xls``, :mod:`hub.ingest.textfile` for
``.csv/.tsv/.txt``) register themselves here; a new format is one more ``@register_reader``.
Checks common to every format (missing, empty or oversized file) run before the reader.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hub.errors import IngestError
from hub.ingest.types import RawSheet

Reader = Callable[[Path], list[RawSheet]]

_READERS: dict[str, Reader] = {}
DEFAULT_MAX_UPLOAD_MB = 200


def register_reader(*suffixes: str) -> Callable[[Reader], Reader]:
    """Register ``fn`` as the reader of files ending in ``suffixes`` (case-insensitive, with the dot)."""

    def deco(fn: Reader) -> Reader:
        for suffix in suffixes:
            _READERS[suffix.lower()] = fn
        return fn

    return deco


def supported_suffixes() -> list[str]:
    _load_builtins()
    return sorted(_READERS)


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


def _load_builtins() -> None:
    from hub.ingest import textfile, workbook  # noqa: F401  (registration side effect)


def read_sheets(path: Path) -> list[RawSheet]:
    """Read every sheet of ``path`` (a CSV file is one sheet named after the file)."""
    path = Path(path)
    _load_builtins()
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        known = "、".join(sorted(_READERS))
        raise IngestError(
            f"不支持的文件类型“{path.suffix or '（无扩展名）'}”",
            file=path.name,
            hint=f"支持的类型：{known}。",
        )
    check_file(path)
    return reader(path)

"""Files that hold ID numbers are private to the hub's own account and are not kept forever.

* :func:`private_umask` makes every file the process creates from then on ``0600`` and every
  directory ``0700`` (the store ``hub.duckdb`` and its WAL, uploads, annotated copies, exports,
  validation reports); :func:`make_private` sets ``0600`` on one file where it is written (for
  callers that did not set the umask, e.g. the export functions used as a library).
* :func:`prune` deletes uploads (``HUB_HOME/uploads``), annotated copies (``HUB_HOME/annotated``)
  and exports (``HUB_HOME/exports``) older than ``HUB_RETENTION_DAYS`` days. What the audit needs
  stays: the store (submissions, findings, the access log with each pull's hash, withdrawals) is
  never pruned, and the file of a submission whose ingest has not completed is kept (it is needed
  to finish it). ``hub prune`` runs it; the web server runs it when it starts.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.store.db import Database

PRIVATE_UMASK = 0o077
PRUNED_DIRS = ("uploads", "annotated", "exports")


def private_umask() -> None:
    """Files created by this process from now on are readable by its own account only."""
    os.umask(PRIVATE_UMASK)


def make_private(path: Path | str) -> None:
    """``chmod 600`` one file (a no-op when it is already)."""
    p = Path(path)
    with contextlib.suppress(FileNotFoundError):
        if stat.S_IMODE(p.stat().st_mode) & 0o077:
            p.chmod(0o600)


def secure_home(home: Path) -> None:
    """The umask for this process, and 0600 on a store created before it was set."""
    private_umask()
    for name in ("hub.duckdb", "hub.duckdb.wal"):
        make_private(home / name)


def retention_days() -> int | None:
    """``HUB_RETENTION_DAYS`` (a positive number of days), or None: keep files."""
    text = os.environ.get("HUB_RETENTION_DAYS", "").strip()
    if not text:
        return None
    try:
        days = int(text)
    except ValueError:
        from hub.errors import HubError

        raise HubError(
            f"HUB_RETENTION_DAYS 应为正整数（天数），实际为“{text}”。", code="bad-setting"
        ) from None
    return days if days > 0 else None


@dataclass
class Pruned:
    files: int = 0
    bytes: int = 0
    kept_incomplete: int = 0
    paths: list[str] = field(default_factory=list)
    #: per folder of ``PRUNED_DIRS``: {"files": n, "bytes": b}
    by_dir: dict[str, dict[str, int]] = field(
        default_factory=lambda: {name: {"files": 0, "bytes": 0} for name in PRUNED_DIRS}
    )
    days: int = 0
    cutoff: float = 0.0
    dry_run: bool = False


def parse_days(text: str | int | None) -> int:
    """A retention period as given (``--days``, ``HUB_RETENTION_DAYS``): a positive whole number of
    days, else :class:`~hub.errors.HubError` in Chinese."""
    from hub.errors import HubError

    raw = str(text if text is not None else "").strip()
    if not raw:
        raise HubError(
            "未设置保留期限：请用 --days 天数 指定，或设置环境变量 HUB_RETENTION_DAYS（例如 180）。",
            code="bad-setting",
        )
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days <= 0:
        raise HubError(f"保留期限应为正整数（天数），实际为“{raw}”。", code="bad-setting")
    return days


def incomplete_sources(db: Database) -> set[str]:
    """Source files of submissions whose ingest has not completed (``hub_submission_state``)."""
    tables = {str(t) for (t,) in db.rows("SELECT table_name FROM information_schema.tables")}
    if "hub_submission_state" not in tables:
        return set()
    return {
        str(Path(p).resolve())
        for (p,) in db.rows(
            "SELECT source_path FROM hub_submission_state WHERE state <> 'complete' AND source_path IS NOT NULL"
        )
    }


def prune(
    home: Path,
    days: int,
    keep: set[str] | None = None,
    now: float | None = None,
    *,
    dry_run: bool = False,
) -> Pruned:
    """Delete the files under ``uploads/``, ``annotated/`` and ``exports/`` of ``home`` last
    modified more than ``days`` days ago, except those in ``keep``; then the emptied folders.
    ``dry_run``: only count what would go."""
    cutoff = (now or time.time()) - days * 86400
    keep = keep or set()
    out = Pruned(days=days, cutoff=cutoff, dry_run=dry_run)
    for name in PRUNED_DIRS:
        root = home / name
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            info = path.stat()
            if info.st_mtime >= cutoff:
                continue
            if str(path.resolve()) in keep:
                out.kept_incomplete += 1
                continue
            if not dry_run:
                path.unlink()
            out.files += 1
            out.bytes += info.st_size
            out.by_dir[name]["files"] += 1
            out.by_dir[name]["bytes"] += info.st_size
            out.paths.append(str(path.relative_to(home)))
        if dry_run:
            continue
        for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
    return out


SHOWN_PATHS = 50  # a dry run lists this many paths in text (all of them in --json)
DIR_LABELS = {"uploads": "上传的台账", "annotated": "批注副本", "exports": "导出的报表"}


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.1f} KB" if n else "0 字节"


def prune_store_files(home: Path, db: Database, days: int, *, dry_run: bool = False) -> Pruned:
    """``hub prune``: :func:`prune` over ``home``, keeping the source files of unfinished ingests."""
    return prune(home, days, incomplete_sources(db), dry_run=dry_run)


def summary(done: Pruned) -> list[str]:
    """What ``hub prune`` prints: per folder, the total, what was kept and why, in Chinese."""
    from datetime import datetime

    verb = "将删除" if done.dry_run else "已删除"
    lines = [
        f"保留期限 {done.days} 天：{datetime.fromtimestamp(done.cutoff):%Y-%m-%d %H:%M} 之前的文件"
        + ("（试运行，未删除任何文件）" if done.dry_run else "")
    ]
    for name in PRUNED_DIRS:
        got = done.by_dir[name]
        lines.append(f"  {DIR_LABELS[name]}（{name}/）：{verb} {got['files']} 个，{_size(got['bytes'])}")
    lines.append(f"共{'将' if done.dry_run else ''}删除 {done.files} 个文件，{_size(done.bytes)}。")
    if done.dry_run and done.paths:
        shown = done.paths[:SHOWN_PATHS]
        lines += [f"    {path}" for path in shown]
        if len(done.paths) > len(shown):
            lines.append(f"    ……另有 {len(done.paths) - len(shown)} 个（--json 列出全部）")
    if done.kept_incomplete:
        lines.append(f"保留 {done.kept_incomplete} 个尚未完成导入的源文件（再次导入时要用到）。")
    lines.append("数据库（报送记录、问题清单、撤回记录、下载日志及每次下载的哈希）不清理。")
    return lines

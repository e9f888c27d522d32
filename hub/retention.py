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


def prune(home: Path, days: int, keep: set[str] | None = None, now: float | None = None) -> Pruned:
    """Delete the files under ``uploads/``, ``annotated/`` and ``exports/`` of ``home`` last
    modified more than ``days`` days ago, except those in ``keep``; then the emptied folders."""
    cutoff = (now or time.time()) - days * 86400
    keep = keep or set()
    out = Pruned()
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
            path.unlink()
            out.files += 1
            out.bytes += info.st_size
            out.paths.append(str(path.relative_to(home)))
        for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
    return out

"""Where the exchange keeps what it computed, under ``HUB_HOME/exchange`` (files 0600):

* ``blobs/ab/<sha256>``: report files by their content hash (the same data gives the same bytes,
  kept once);
* ``snapshots/<report>/<township|county>/<cursor>.parquet``: a report's records at one data
  version and report date, and ``<cursor>.json`` beside it (what was computed: the file's hash and
  name, records, 合计 rows);
* ``secret``: the key of the record pseudonyms a department sees (never leaves the machine).

A snapshot is written once, under a lock per snapshot (concurrent pulls of one version wait for the
first and then read its files); files are written to a temporary name and renamed, so a reader sees
a whole file or none. Snapshots and blobs not used for ``HUB_CHANGES_KEEP_DAYS`` days (default 400)
are deleted when a new snapshot is written: an older cursor is then answered "expired".
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from hub.retention import make_private

KEEP_DAYS = 400
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def root(home: Path) -> Path:
    return home / "exchange"


def lock_for(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(path), threading.Lock())


def secret(home: Path) -> str:
    """This hub's pseudonym key (created once)."""
    path = root(home) / "secret"
    with contextlib.suppress(FileNotFoundError):
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock_for(path):
        if not path.exists():
            write_atomic(path, secrets.token_hex(32).encode("ascii"))
    return path.read_text(encoding="ascii").strip()


def write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(content)
    make_private(tmp)
    os.replace(tmp, path)


def put_blob(home: Path, sha256: str, source: Path) -> Path:
    """Move a written file into the blob store under its hash (kept once)."""
    target = blob_path(home, sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    make_private(source)
    if target.exists():
        source.unlink(missing_ok=True)
        os.utime(target)
    else:
        os.replace(source, target)
    return target


def blob_path(home: Path, sha256: str) -> Path:
    return root(home) / "blobs" / sha256[:2] / sha256


def read_meta(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_meta(path: Path, meta: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))


def keep_days() -> int:
    text = os.environ.get("HUB_CHANGES_KEEP_DAYS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else KEEP_DAYS


def prune(home: Path) -> int:
    """Delete snapshots and blobs unused for longer than :func:`keep_days`; returns files deleted."""
    cutoff = time.time() - keep_days() * 86400
    gone = 0
    for sub in ("snapshots", "blobs"):
        base = root(home) / sub
        if not base.exists():
            continue
        for path in base.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    gone += 1
    return gone

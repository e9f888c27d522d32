"""Data versions: a counter stamped after every change of the merged store (docs/exchange.md).

Snapshots, cached report files and cursors are keyed by the version, so a pull never needs to ask
whether the data changed: a new version is new data (or the same data again, which the content hash
then shows)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.store.db import Database


def current(db: Database) -> int:
    """The store's data version (0 before the first stamp)."""
    return int(db.scalar("SELECT coalesce(max(version), 0) FROM hub_data_versions") or 0)


def current_for(db: Database, township: str | None) -> int:
    """The last version that changed ``township``'s merged records (``None``: the county, every
    version). Report snapshots of a township key on it, so another township's upload leaves them."""
    if township is None:
        return current(db)
    return int(
        db.scalar(
            """SELECT coalesce(max(v.version), 0) FROM hub_data_versions v
               WHERE NOT EXISTS (SELECT 1 FROM hub_version_townships t WHERE t.version = v.version)
                  OR EXISTS (SELECT 1 FROM hub_version_townships t WHERE t.version = v.version
                             AND t.township_code = ?)""",
            [township],
        )
        or 0
    )


def bump(db: Database, cause: str, townships: Collection[str] | None = None) -> int:
    """Stamp the next version (call after the merged tables changed); returns it. ``townships``: the
    only townships whose merged records changed (an incremental merge says which; None: any may have)."""
    with db.transaction():
        version = current(db) + 1
        db.execute(
            "INSERT INTO hub_data_versions VALUES (?, ?, ?, ?)", [version, datetime.now(), cause, _inputs(db)]
        )
        if townships is not None:
            db.execute(
                "INSERT INTO hub_version_townships SELECT ?, unnest(?)",
                [version, [None, *sorted(set(townships))]],
            )
    return version


_INPUTS = (
    "SELECT concat_ws(':', (SELECT count(*) FROM hub_submissions), "
    "(SELECT coalesce(max(submission_id), 0) FROM hub_submissions), (SELECT count(*) FROM hub_withdrawals))"
)


def _inputs(db: Database) -> str:
    return str(db.scalar(_INPUTS))


def mark(db: Database) -> tuple[int, str]:
    """Where the store stands: its data version and its submissions (stored, withdrawn). Equal marks
    mean equal merged tables for everything a report reads."""
    return current(db), _inputs(db)


def stale(db: Database) -> bool:
    """Submissions stored or withdrawn since the last stamp (``hub ingest`` stores without merging):
    the merged tables are not yet what the store holds."""
    last = db.scalar("SELECT inputs FROM hub_data_versions ORDER BY version DESC LIMIT 1")
    return _inputs(db) != last and bool(db.scalar("SELECT count(*) FROM hub_submissions"))


def stamped_at(db: Database, version: int) -> datetime | None:
    """When ``version`` was stamped (None for version 0 or an unknown one)."""
    value = db.scalar("SELECT created_at FROM hub_data_versions WHERE version = ?", [version])
    return value if isinstance(value, datetime) else None


def deployed(db: Database, fingerprint: str) -> int | None:
    """Record what the store's views are defined by now (``fingerprint``, :func:`definitions`); when
    it differs from the last open's, or a store with data has none recorded (opened by a hub from
    before this check), stamp a new version for every township (cause 部署): cached report files
    and cursors were computed with the old definitions. Returns the version stamped, or None."""
    last = db.scalar("SELECT fingerprint FROM hub_deployments ORDER BY opened_at DESC LIMIT 1")
    if last == fingerprint:
        return None
    version = bump(db, "部署") if current(db) > 0 else None
    db.execute("INSERT INTO hub_deployments VALUES (?, ?, ?)", [datetime.now(), fingerprint, version])
    return version


def definitions(ddl_dir: Path, columns: Iterable[tuple[str, str]]) -> str:
    """The fingerprint of what the views compute: every DDL file (name and text) and the admitted
    fields' view columns (``(entity, field)``)."""
    digest = hashlib.sha256()
    for path in sorted(ddl_dir.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for entity, name in sorted(columns):
        digest.update(f"{entity}.{name}\0".encode())
    return digest.hexdigest()

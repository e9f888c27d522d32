"""Confirmed column mappings, kept per township and header layout (table ``hub_column_maps``).

A clerk confirms a sheet's columns once (the upload page's column step, or ``hub ingest --columns``);
the next upload of the same layout by the same township goes through without a question. A mapping
confirmed by another township for the same layout is used when the township has none of its own
(layouts are the county's shared forms far more often than one clerk's invention). Every
confirmation is kept: the newest per (township, layout) is active, the older ones are the history a
steward reads (``hub columns --list``, the steward's 列映射 page).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.ingest.columns.normalise import full_header

if TYPE_CHECKING:
    from hub.store.db import Database

Mapping_ = dict[str, str | None]


def load_mappings(db: Database, township: str | None = None) -> dict[str, Mapping_]:
    """Active mappings by layout: the township's own first, then any other township's newest."""
    rows = db.rows(
        "SELECT layout, mapping FROM hub_column_maps WHERE active "
        "ORDER BY (township_code IS NOT DISTINCT FROM ?) ASC, confirmed_at ASC, map_id ASC",
        [township],
    )
    return {layout: json.loads(mapping) for layout, mapping in rows}  # later rows win


def remember(
    db: Database,
    township: str | None,
    layout: str,
    headers: list[str],
    fields: Mapping[str, str | None],
    *,
    by: str | None = None,
    file_name: str | None = None,
) -> int:
    """Keep a confirmed mapping (header as written → field or None); returns its id. The township's
    earlier mapping of the same layout is kept as history, inactive."""
    mapping = {full_header(h): f for h, f in fields.items()}
    with db.transaction():
        db.execute(
            "UPDATE hub_column_maps SET active = false WHERE layout = ? AND township_code IS NOT DISTINCT FROM ?",
            [layout, township],
        )
        map_id = int(db.scalar("SELECT nextval('hub_column_map_seq')"))
        db.execute(
            "INSERT INTO hub_column_maps VALUES (?, ?, ?, ?, ?, ?, ?, ?, true)",
            [
                map_id,
                township,
                layout,
                json.dumps(headers, ensure_ascii=False),
                json.dumps(mapping, ensure_ascii=False),
                by,
                datetime.now(),
                file_name,
            ],
        )
    return map_id


def history(db: Database, township: str | None = None) -> list[dict[str, Any]]:
    """Every confirmation, newest first (a steward's view; ``township`` narrows it)."""
    where = "WHERE township_code = ?" if township else ""
    rows = db.dicts(
        f"SELECT map_id, township_code, layout, headers, mapping, confirmed_by, confirmed_at, file_name, active "
        f"FROM hub_column_maps {where} ORDER BY confirmed_at DESC, map_id DESC",
        [township] if township else None,
    )
    for r in rows:
        r["headers"], r["mapping"] = json.loads(r["headers"]), json.loads(r["mapping"])
    return rows

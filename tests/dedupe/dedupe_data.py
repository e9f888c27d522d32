"""Hand-built hub_rows + hub_submissions for the merge tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from hub.store.db import Database

AddFn = Callable[..., int]

# 18-character IDs (checksums are validation's job, not the merge's).
ID_A = "330702199001011234"
ID_B = "33070219850203222X"
ID_C = "330702201001015678"
ID_D = "330702195505059999"
T1 = "330702001"
T2 = "330702002"
V1 = T1 + "001"
V2 = T1 + "002"
V3 = T2 + "001"


def add_submission(
    db: Database,
    sid: int,
    kind: str,
    rows: list[dict[str, Any]],
    *,
    township: str = T1,
    at: str = "2026-01-10 09:00:00",
    file: str | None = None,
    sheet: str = "Sheet1",
) -> int:
    """Insert one submission and its rows (row_no 3, 4, … unless given; accepted unless given)."""
    db.execute(
        "INSERT INTO hub_submissions (submission_id, file_name, sha256, township_code, kind, submitted_at,"
        " rows, accepted, rejected, errors, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0)",
        [
            sid,
            file or f"{kind}-{sid}.xlsx",
            f"sha{sid}",
            township,
            kind,
            datetime.fromisoformat(at),
            len(rows),
        ],
    )
    frame = pd.DataFrame(
        [
            {
                "submission_id": sid,
                "sheet": sheet,
                "row_no": 3 + i,
                "township_code": township,
                "kind": kind,
                "accepted": True,
                **r,
            }
            for i, r in enumerate(rows)
        ]
    )
    db.register("_test_rows", frame)
    db.execute("INSERT INTO hub_rows BY NAME SELECT * FROM _test_rows")
    db.unregister("_test_rows")
    return sid

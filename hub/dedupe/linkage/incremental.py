"""A steward's review decision applied without re-scoring the store.

A decision changes no record and no score: only which pairs are merge edges (and so which rejected
rows a match may fill). When the linkage inputs (rows, findings, files: :func:`inputs_fp`) are those
the last full run saw, and that run scored with the saved model every record as itself
(``LinkSummary.plain``), its pairs are exactly what a new run would score. Then
:func:`apply_decisions` runs only the steps a decision can change: filling rejected rows
(:func:`hub.dedupe.linkage.fill.resolve_rejected`), the clusters and the stable codes. A fill changes
a record, so the caller then runs the full linkage (which continues from there exactly as a full run
would); so does any other case (a store changed since, a default model, collapsed twins, an oversized
block).
"""

from __future__ import annotations

from datetime import datetime

from hub.dedupe.linkage.config import LinkageConfig
from hub.dedupe.linkage.fill import resolve_rejected
from hub.dedupe.linkage.graph import cluster_records
from hub.dedupe.linkage.records import INPUT
from hub.dedupe.linkage.stable import assign_codes
from hub.store.db import Database

# Every input of a linkage run, hashed row by row and folded order-independently. The findings that
# linkage itself rewrites on every run (candidates) are not inputs.
_FP = """
SELECT hash(
  (SELECT coalesce(bit_xor(hash(submission_id, sheet, row_no, accepted, kind, id_number, name, sex, birth_date,
                                birth_precision, village_code, phone)), 0) FROM hub_rows),
  (SELECT coalesce(bit_xor(hash(submission_id, sheet, row_no, field, code, severity, value)), 0)
   FROM hub_findings WHERE code NOT IN ('id-match-candidates')),
  (SELECT coalesce(bit_xor(hash(submission_id, sha256)), 0) FROM hub_submissions),
  (SELECT count(*) FROM hub_rows), (SELECT count(*) FROM hub_findings WHERE code NOT IN ('id-match-candidates'))
)
"""


def inputs_fp(db: Database) -> int:
    return int(db.scalar(_FP))


def record_state(db: Database, plain: bool, now: datetime | None = None) -> None:
    """After a complete linkage run: what it saw, and whether a decision may be applied without it."""
    with db.transaction():
        db.execute("DELETE FROM hub_link_state")
        db.execute(
            "INSERT INTO hub_link_state VALUES (?, ?, ?)", [inputs_fp(db), plain, now or datetime.now()]
        )


def apply_decisions(db: Database, cfg: LinkageConfig, now: datetime | None = None) -> bool:
    """Apply the stored decisions to the last run's pairs: fills, clusters, codes. Returns False when
    the full linkage must run instead (see module doc); True when the store is as a full run leaves it."""
    now = now or datetime.now()
    state = db.rows("SELECT fp, plain FROM hub_link_state")
    if not state or not state[0][1] or int(state[0][0]) != inputs_fp(db) or not db.table_exists(INPUT):
        return False
    if not cfg.model_path.exists():
        return False
    fill = resolve_rejected(db, None, cfg, now)
    if fill.filled:
        return False  # a record changed: re-score from here (what the full run's next pass does)
    cluster_records(db, INPUT)
    with db.transaction():
        assign_codes(db, "__link_clusters", now)
    db.execute("DROP TABLE IF EXISTS __link_clusters")
    record_state(db, True, now)
    return True

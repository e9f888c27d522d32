"""Review of pairs between the thresholds, and explaining a person code.

A decision is stored per pair (``hub_link_decisions``: who, when, the score) and reused by every later
run: a decided pair is never listed again; ``accept`` makes it a merge edge (and lets a rejected row
take the other record's ID), ``reject`` removes it. Accepting a pair of two different valid IDs is
refused (hard rule).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.errors import HubError
from hub.store.db import Database

_RECORD = """
SELECT x.uid, x.name, x.sex, x.birth_date, x.village_code, v.name AS village_name, mask_id(x.id_valid) AS id_masked,
       x.phone1 AS phone, b.file_name, s.sheet, s.row_no, s.submission_id
FROM {input} x LEFT JOIN {source} s USING (uid)
LEFT JOIN hub_submissions b USING (submission_id) LEFT JOIN hub_divisions v ON v.code = x.village_code
"""


def _record_sql(uids: str | None = None) -> str:
    """The records of :data:`_RECORD`; ``uids`` (a temporary table of ``uid``): those only, found on
    the uid column and read whole by row id (a million wide linkage records are not scanned)."""
    if uids is None:
        return _RECORD.format(input="hub_link_input", source="hub_link_source")
    by_id = "(SELECT * FROM {t} WHERE rowid IN (SELECT rowid FROM {t} SEMI JOIN " + uids + " USING (uid)))"
    return _RECORD.format(input=by_id.format(t="hub_link_input"), source=by_id.format(t="hub_link_source"))


#: The level named for a comparison that added nothing (one side empty): its weight is 0.
NOT_COUNTED = "不计分（一方为空）"


def _drivers(
    levels: dict[str, dict[int, tuple[str, float]]], gammas: Any, reached: Any = None
) -> list[dict[str, Any]]:
    """The fields of a pair with the weight each contributed (log2 Bayes factor) and the level it
    reached, strongest first. ``reached`` (comparison -> gamma, stored since DDL 62) names the level
    exactly; for a pair scored before, the level whose weight is nearest is named."""
    import json

    got = json.loads(gammas) if isinstance(gammas, str) else (gammas or {})
    at = json.loads(reached) if isinstance(reached, str) else (reached or {})
    out = []
    for comp, weight in got.items():
        gamma = at.get(comp)
        if gamma is not None:  # -1: one side empty, Splink's null level
            level = NOT_COUNTED if int(gamma) < 0 else levels.get(comp, {}).get(int(gamma), (None, 0.0))[0]
        else:
            near = min(levels.get(comp, {}).values(), key=lambda lv: abs(lv[1] - weight), default=None)
            # a weight of 0 is Splink's level for an empty side (or a level that says nothing): not counted
            level = NOT_COUNTED if weight == 0 else (near[0] if near else None)
        out.append({"field": comp, "level": level, "weight": weight})
    return sorted(out, key=lambda d: -abs(d["weight"]))


def _pairs(db: Database, where: str, params: list[Any], limit: int | None = None) -> list[dict[str, Any]]:
    """The pairs of ``where`` (the ``limit`` strongest) with both records: one query for the pairs,
    one for all their records (never a query per pair: a county's review list has thousands)."""
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE __review_pairs AS
            SELECT p.pair_id, p.match_probability, p.match_weight, p.status, p.rule, p.gammas, p.levels,
                   p.uid_l, p.uid_r,
                   d.decision, d.decided_by, d.decided_at
            FROM hub_link_pairs p LEFT JOIN hub_link_decisions d USING (pair_id) WHERE {where}
            ORDER BY p.match_probability DESC, p.pair_id {"" if limit is None else f"LIMIT {int(limit)}"}""",
        params,
    )
    try:
        rows = db.dicts("SELECT * FROM __review_pairs ORDER BY match_probability DESC, pair_id")
        db.execute(
            "CREATE OR REPLACE TEMP TABLE __review_uids AS "
            "SELECT uid_l AS uid FROM __review_pairs UNION SELECT uid_r FROM __review_pairs"
        )
        recs = {r["uid"]: r for r in db.dicts(_record_sql("__review_uids"))}
    finally:
        db.execute("DROP TABLE IF EXISTS __review_pairs")
        db.execute("DROP TABLE IF EXISTS __review_uids")
    levels: dict[str, dict[int, tuple[str, float]]] = {}
    for comp, gamma, label, weight in db.rows(
        "SELECT comparison, gamma, label, weight FROM hub_link_levels ORDER BY ALL"
    ):
        levels.setdefault(comp, {})[int(gamma)] = (label, weight)
    for row in rows:
        row["left"], row["right"] = recs.get(row.pop("uid_l")), recs.get(row.pop("uid_r"))
        row["drivers"] = _drivers(levels, row.pop("gammas"), row.pop("levels"))
    return rows


_PENDING = "p.status = 'review' AND d.pair_id IS NULL"


def pending_pairs(db: Database, limit: int | None = None) -> list[dict[str, Any]]:
    """Pairs waiting for a steward (the ``limit`` strongest): both records side by side (ID masked),
    probability, drivers."""
    return _pairs(db, _PENDING, [], limit)


def pending_count(db: Database) -> int:
    return int(
        db.scalar(
            f"SELECT count(*) FROM hub_link_pairs p LEFT JOIN hub_link_decisions d USING (pair_id) WHERE {_PENDING}"
        )
    )


def decide(db: Database, pair_id: str, decision: str, who: str, now: datetime | None = None) -> None:
    """Record ``accept`` or ``reject`` for ``pair_id`` by ``who``. Takes effect at the next linkage run."""
    if decision not in ("accept", "reject"):
        raise HubError(
            f"无效的决定“{decision}”：只能是 accept（是同一人）或 reject（不是同一人）。",
            code="review-decision",
        )
    pair = db.dicts("SELECT * FROM hub_link_pairs WHERE pair_id = ?", [pair_id])
    if not pair:
        raise HubError(
            f"没有编号为 {pair_id} 的待确认记录对。请用 hub review 查看。", code="review-unknown-pair"
        )
    if decision == "accept" and pair[0]["status"] == "blocked":
        raise HubError(
            "两条记录的身份证号码都有效且不同，按规则不是同一人，不能确认为同一人。", code="review-hard-rule"
        )
    with db.transaction():
        db.execute("DELETE FROM hub_link_decisions WHERE pair_id = ?", [pair_id])
        db.execute(
            "INSERT INTO hub_link_decisions VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                pair_id,
                pair[0]["uid_l"],
                pair[0]["uid_r"],
                decision,
                who,
                now or datetime.now(),
                pair[0]["match_probability"],
            ],
        )


def explain(db: Database, code: str) -> dict[str, Any]:
    """A person code: the surviving code, codes it absorbed, its source records, the pair decisions
    among them and the fields that carried them, fills and misuse flags."""
    target = db.scalar(
        "SELECT coalesce(redirect_to, code) FROM hub_codes WHERE entity = 'person' AND code = ?", [code]
    )
    if target is None:
        raise HubError(f"没有人员编码 {code}。", code="explain-unknown-code")
    uids = [
        r[0]
        for r in db.rows("SELECT uid FROM hub_link_clusters WHERE person_code = ? ORDER BY uid", [target])
    ]
    inlist = "SELECT uid FROM hub_link_clusters WHERE person_code = $c"
    return {
        "code": target,
        "requested": code,
        "absorbed": [r[0] for r in db.rows("SELECT code FROM hub_codes WHERE redirect_to = ? ORDER BY code", [target])],
        "redirects": db.dicts("SELECT * FROM hub_link_redirects WHERE code = ? OR redirect_to = ? ORDER BY changed_at", [target, target]),
        "records": db.dicts(f"SELECT * FROM ({_record_sql()}) q WHERE uid IN ({inlist}) ORDER BY uid", {"c": target}),
        "pairs": _pairs(db, f"p.uid_l IN ({inlist}) OR p.uid_r IN ({inlist})".replace("$c", "?"), [target, target]),
        "decisions": db.dicts(f"SELECT * FROM hub_link_decisions WHERE uid_l IN ({inlist}) OR uid_r IN ({inlist}) "
                              "ORDER BY decided_at", {"c": target}),
        "same_id": bool(uids) and db.scalar(f"SELECT count(DISTINCT id_valid) FROM hub_link_input WHERE uid IN ({inlist})", {"c": target}) == 1,
        "fills": db.dicts("SELECT f.* FROM hub_link_fills f JOIN hub_link_clusters c USING (submission_id, sheet, row_no) WHERE c.person_code = ?", [target]),
        "misused": db.dicts("SELECT m.* FROM hub_link_misuse m JOIN hub_link_clusters c USING (submission_id, sheet, row_no) WHERE c.person_code = ?", [target]),
    }  # fmt: skip

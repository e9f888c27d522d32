"""Filling what the clerk could not (``id-filled-by-match``).

A row rejected only for its ID (missing, mistyped, precision lost) whose merge-grade links reach
exactly ONE known person with a valid ID — probability at or above the upper threshold, or a pair a
steward accepted — and no other person at or above the lower threshold, is accepted with that
person's ID; its ID error becomes a warning and an ``id-filled-by-match`` warning names the ID used
and the record it came from. Otherwise the row stays rejected and an ``id-match-candidates`` error
lists the candidates (name, masked ID, village, probability). Idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.dedupe.linkage.config import LinkageConfig
from hub.store.db import Database

_CANDIDATES = """
CREATE OR REPLACE TEMP TABLE __fill_cand AS
WITH target AS (
    SELECT s.*, {link_uid} AS link_uid FROM hub_link_source s {twins}
    WHERE NOT accepted AND id_valid IS NULL AND ($sid IS NULL OR submission_id = $sid) {scope}
      AND (submission_id, sheet, row_no) NOT IN (SELECT (submission_id, sheet, row_no) FROM hub_link_misuse)),
ends AS (   -- each pair from both ends: equi-joins only (an IN-list join is a nested loop)
    SELECT pair_id, uid_l AS uid, uid_r AS other, match_probability, status FROM hub_link_pairs
    UNION ALL SELECT pair_id, uid_r, uid_l, match_probability, status FROM hub_link_pairs),
links AS (
    SELECT p.pair_id, p.other, t.uid,
           CASE WHEN d.decision = 'accept' THEN 1.0 ELSE p.match_probability END AS prob
    FROM ends p JOIN target t ON t.link_uid = p.uid
    LEFT JOIN hub_link_decisions d USING (pair_id)
    WHERE p.status <> 'blocked' AND coalesce(d.decision, '') <> 'reject')
SELECT l.uid, x.id_valid, max(l.prob) AS prob, first(l.other ORDER BY l.prob DESC, l.other) AS source_uid
FROM links l JOIN hub_link_input x ON x.uid = l.other
WHERE x.id_valid IS NOT NULL GROUP BY ALL
"""

_FILLS = """
CREATE OR REPLACE TEMP TABLE __fill_do AS
SELECT c.uid, first(c.id_valid ORDER BY c.prob DESC, c.id_valid) AS id_number,
       first(c.source_uid ORDER BY c.prob DESC, c.id_valid) AS source_uid, max(c.prob) AS prob
FROM __fill_cand c GROUP BY c.uid
HAVING count(*) FILTER (WHERE c.prob >= $upper) = 1 AND count(*) FILTER (WHERE c.prob >= $lower) = 1
"""

_RECORD = """(SELECT x.uid, x.name, x.village_code, s.sheet, s.row_no, b.file_name
              FROM hub_link_source s JOIN hub_link_input x USING (uid) JOIN hub_submissions b USING (submission_id))"""


@dataclass(frozen=True)
class FillResult:
    filled: int  # rows accepted with a matched ID
    with_candidates: int  # rows still rejected, now listing candidates
    without_candidates: int  # rows still rejected, no candidate found


def resolve_rejected(db: Database, submission_id: int | None = None, config: LinkageConfig | None = None,
                     now: datetime | None = None, twins: str | None = None,
                     scope: str | None = None) -> FillResult:  # fmt: skip
    """Fill or annotate the rejected rows of ``submission_id`` (all when ``None``). Needs the tables
    of the latest :func:`hub.dedupe.linkage.pipeline.run_linkage` (or of ``link_records``). ``twins``:
    the collapsed records (:mod:`hub.dedupe.linkage.guard`), which take the links of their group's
    first record. ``scope`` (SQL giving ``uid``): only those records are looked at again; the rest
    keep their fill or candidates (an incremental run: every record whose pairs, decisions or row
    changed is in it, :mod:`hub.dedupe.linkage.incremental`)."""
    cfg, now = config or LinkageConfig(), now or datetime.now()
    join, link_uid = (
        (f"LEFT JOIN {twins} tw USING (uid)", "coalesce(tw.first_uid, s.uid)") if twins else ("", "s.uid")
    )
    within = f"AND s.uid IN ({scope})" if scope else ""
    db.execute(_CANDIDATES.format(twins=join, link_uid=link_uid, scope=within), {"sid": submission_id})
    db.execute(_FILLS, {"upper": cfg.upper, "lower": cfg.lower})
    key = "(SELECT submission_id, sheet, row_no FROM hub_link_source s JOIN {t} USING (uid))"
    rows = f" AND (submission_id, sheet, row_no) IN {key.format(t=f'({scope})')}" if scope else ""
    with db.transaction():
        db.execute(
            "DELETE FROM hub_findings WHERE code = 'id-match-candidates' AND ($sid IS NULL OR submission_id = $sid)"
            + rows,
            {"sid": submission_id},
        )
        db.execute(
            """INSERT INTO hub_link_fills
            SELECT s.submission_id, s.sheet, s.row_no, f.id_number, f.source_uid, f.prob, coalesce(s.id_code, 'required-missing'), ?
            FROM __fill_do f JOIN hub_link_source s USING (uid)""",
            [now],
        )
        db.execute(
            f"""INSERT INTO hub_findings
            SELECT s.submission_id, s.sheet, s.row_no, c.header, 'id_number', f.id_number, 'id-filled-by-match', 'warning',
                   '身份证号码无法使用，已按与“' || src.file_name || '”' || src.sheet || '第' || src.row_no || '行（'
                   || src.name || '）的匹配（概率' || printf('%.3f', f.prob) || '）填入' || f.id_number
                   || '。请核对，并在原表中更正为本人完整的身份证号码。'
            FROM __fill_do f JOIN hub_link_source s USING (uid) JOIN {_RECORD} src ON src.uid = f.source_uid
            LEFT JOIN (SELECT submission_id, sheet, min(header) AS header FROM hub_columns
                       WHERE field = 'id_number' GROUP BY ALL) c ON c.submission_id = s.submission_id AND c.sheet = s.sheet"""
        )
        fill_keys = key.format(t="__fill_do")
        db.execute(
            f"""UPDATE hub_findings SET severity = 'warning' WHERE severity = 'error' AND field = 'id_number'
                AND (submission_id, sheet, row_no) IN (SELECT (submission_id, sheet, row_no) FROM {fill_keys})"""
        )
        db.execute(
            """UPDATE hub_rows r SET accepted = true, id_number = f.id_number,
                   id_type = CASE WHEN f.id_number LIKE '9%' THEN 'foreign_permanent'
                                  WHEN left(f.id_number, 2) IN ('81', '82', '83') THEN 'hk_mo_tw' ELSE 'resident' END
               FROM __fill_do f JOIN hub_link_source s USING (uid)
               WHERE r.submission_id = s.submission_id AND r.sheet = s.sheet AND r.row_no = s.row_no"""
        )
        db.execute(
            """INSERT INTO hub_findings
            SELECT s.submission_id, s.sheet, s.row_no, min(c.header), 'id_number', NULL, 'id-match-candidates', 'error',
                   '可能是以下人员之一，请核对后填写完整的身份证号码：' || string_agg(
                       x.name || '（' || mask_id(k.id_valid) || '，' || coalesce(v.name, x.village_code, '村未知')
                       || '，匹配概率' || printf('%.3f', k.prob) || '）', '；' ORDER BY k.prob DESC, k.id_valid)
            FROM (SELECT * FROM __fill_cand WHERE uid NOT IN (SELECT uid FROM __fill_do)
                  QUALIFY row_number() OVER (PARTITION BY uid ORDER BY prob DESC, id_valid) <= $n) k
            JOIN hub_link_source s USING (uid) JOIN hub_link_input x ON x.uid = k.source_uid
            LEFT JOIN hub_divisions v ON v.code = x.village_code
            LEFT JOIN hub_columns c ON c.submission_id = s.submission_id AND c.sheet = s.sheet AND c.field = 'id_number'
            GROUP BY s.submission_id, s.sheet, s.row_no""",
            {"n": cfg.max_candidates},
        )
    filled = int(db.scalar("SELECT count(*) FROM __fill_do"))
    listed = int(
        db.scalar("SELECT count(DISTINCT uid) FROM __fill_cand WHERE uid NOT IN (SELECT uid FROM __fill_do)")
        if not scope  # the rows listing candidates, those looked at now and those kept
        else db.scalar(
            "SELECT count(*) FROM (SELECT DISTINCT submission_id, sheet, row_no FROM hub_findings "
            "WHERE code = 'id-match-candidates' AND ($sid IS NULL OR submission_id = $sid))",
            {"sid": submission_id},
        )
    )
    total = int(db.scalar(
        "SELECT count(*) FROM hub_link_source WHERE NOT accepted AND id_valid IS NULL AND ($sid IS NULL OR submission_id = $sid)",
        {"sid": submission_id}))  # fmt: skip
    return FillResult(filled, listed, max(total - filled - listed, 0))

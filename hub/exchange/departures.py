"""Resubmissions: a township's new ledger of a source supersedes the earlier one, and the residents
it no longer lists are flagged 待核实 for the clerk (docs/operations.md, "Resubmissions").

* **Same source** (:func:`source_of`): the same township, the same ledger kind(s), and the same file
  name once its period is taken out (years, months, dates, quarters, 第N期, copy marks such as
  ``(1)``, 副本, 更正, 修改版, v2). ``青山镇_低保花名册_2026年11月.xlsx`` and
  ``青山镇_低保花名册_2026年12月.xlsx`` are one source; ``青山镇_残疾人台账`` is another. Business
  ledgers are registers, not rosters of residents: they never supersede one another.
* **What leaves the merge**: every earlier submission of the source still in force is recorded in
  ``hub_supersessions``; its rows leave :func:`hub.dedupe.values.rows_sql` (the view
  ``hub_superseded``), except the rows of residents the new ledger left out while they are 待核实 or
  answered 漏报 (the view ``hub_departures_kept``). 迁出 / 死亡 take the row out; the answer is the
  reason the change feed gives for the record's removal. Withdrawing the new submission brings the
  old one back (both views read only supersessions whose new submission is still stored).
* **What a department sees meanwhile**: the resident's old row stays in force until the clerk
  answers, so reports keep them; 漏报 keeps them until the source's next ledger (which must list
  them again, or they are flagged anew); 迁出 / 死亡 remove them at the next merge.

Everything is set-based SQL over the submissions involved; the loop is over the (few) submissions of
one ingest, never over rows.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from hub.errors import HubError
from hub.store.db import Database

ANSWERS = ("迁出", "死亡", "漏报")
ANSWER_TEXT = {
    "迁出": "已迁出：从各部门报表中移除",
    "死亡": "已死亡：从各部门报表中移除",
    "漏报": "漏报：保留原记录，下次报送请补上",
}

# The period and copy marks of a file name: what changes from one month's ledger to the next.
_PERIOD = re.compile(
    r"(\d{4}\s*[-_.年/]\s*\d{1,2}(\s*[-_.月/]\s*\d{1,2}\s*日?)?\s*月?份?"
    r"|\d{8}|\d{6}|\d{4}\s*年(度)?|(19|20)\d{2}"
    r"|\d{1,2}\s*月份?|[一二三四五六七八九十]{1,3}月份?"
    r"|第?[一二三四1-4]\s*季度|[上下]半年|第\s*\d+\s*[期次]"
    r"|[(（]\s*\d+\s*[)）]|副本|复件|更正版?|修改版?|修订版?|最新版?|重报|补报|终版|定稿|[vV]\d+)"
)
_SEPARATORS = re.compile(r"[\s_\-.·,，、()（）\[\]【】]+")

# The person-level content of a row compared between the old and the new ledger (changed rows).
COMPARED = (
    "name", "sex", "birth_date", "ethnicity", "marital_status", "village_code", "address", "phone",
    "person_status", "death_date", "household_no", "head_name", "head_id_number", "relation",
    "dibao_category", "household_size", "covered_count", "covered", "dibao_amount", "dibao_start",
    "disability_category", "disability_level", "disability_cert", "remark",
)  # fmt: skip

_OPEN = "(d.answer IS NULL OR d.answer = '漏报')"
_LIVE = (
    "d.new_submission_id IN (SELECT submission_id FROM hub_submissions) "
    "AND d.old_submission_id IN (SELECT submission_id FROM hub_submissions) "
    "AND (d.closed_by IS NULL OR d.closed_by NOT IN (SELECT submission_id FROM hub_submissions))"
)


def source_of(file_name: str, kind: str | None) -> str:
    """The source of a ledger: its kind(s) and its file name without period or copy marks."""
    stem = unicodedata.normalize("NFKC", str(file_name)).rsplit(".", 1)[0]
    stem = _PERIOD.sub(" ", stem)
    stem = _SEPARATORS.sub("", stem).lower()
    return f"{kind or ''}:{stem}"


def supersede(db: Database, submission_ids: list[int], now: datetime | None = None) -> None:
    """For each newly stored submission (oldest first), the earlier submissions of its source still in
    force are superseded and the residents it left out flagged 待核实, in one transaction each.
    Idempotent: a submission already compared is skipped (an interrupted ingest run again)."""
    for sid in sorted(submission_ids):
        if db.scalar("SELECT count(*) FROM hub_supersessions WHERE new_submission_id = ?", [sid]):
            continue
        sub = db.dicts(
            "SELECT submission_id, file_name, township_code, kind FROM hub_submissions WHERE submission_id = ?",
            [sid],
        )
        if not sub or not sub[0]["township_code"] or "business" in str(sub[0]["kind"] or ""):
            continue
        new = sub[0]
        source = source_of(new["file_name"], new["kind"])
        earlier = db.dicts(
            """SELECT submission_id, file_name FROM hub_submissions
               WHERE township_code = ? AND kind = ? AND submission_id < ?
                 AND submission_id NOT IN (SELECT submission_id FROM hub_superseded)
               ORDER BY submission_id""",
            [new["township_code"], new["kind"], sid],
        )
        olds = [int(e["submission_id"]) for e in earlier if source_of(e["file_name"], new["kind"]) == source]
        if olds:
            _compare(db, sid, olds, new["township_code"], source, now or datetime.now())


def _compare(db: Database, sid: int, olds: list[int], town: str, source: str, now: datetime) -> None:
    content = ", ".join(COMPARED)
    with db.transaction():
        # What was in force from the source: the earlier ledgers' rows, and the rows of residents an
        # earlier resubmission left out that are still kept (待核实 or 漏报), latest row per person.
        db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _x_before AS
            SELECT id_number, arg_max(name, submission_id) AS name,
                   arg_max(submission_id, submission_id) AS row_sub,
                   list_sort(list(hash(row({content}))) FILTER (WHERE submission_id = max_sub)) AS h
            FROM (
                SELECT *, max(submission_id) OVER (PARTITION BY id_number) AS max_sub FROM (
                    SELECT r.* FROM hub_rows r
                    WHERE r.accepted AND r.id_number IS NOT NULL AND list_contains($olds, r.submission_id)
                    UNION ALL BY NAME
                    SELECT r.* FROM hub_rows r JOIN hub_departures d
                      ON d.old_submission_id = r.submission_id AND d.id_number = r.id_number
                    WHERE r.accepted AND d.township_code = $town AND d.source = $source AND {_OPEN} AND {_LIVE}
                )
            )
            GROUP BY id_number
            """,
            {"olds": olds, "town": town, "source": source},
        )
        db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _x_after AS
            SELECT id_number, bool_or(accepted) AS accepted,
                   list_sort(list(hash(row({content}))) FILTER (WHERE accepted)) AS h
            FROM hub_rows WHERE submission_id = $sid AND id_number IS NOT NULL GROUP BY id_number
            """,
            {"sid": sid},
        )
        counts = db.dicts(
            """SELECT count(*) FILTER (WHERE b.id_number IS NULL AND a.accepted) AS added,
                      count(*) FILTER (WHERE b.id_number IS NOT NULL AND a.accepted AND a.h <> b.h) AS changed
               FROM _x_after a LEFT JOIN _x_before b USING (id_number)"""
        )[0]
        left = int(
            db.scalar(
                "SELECT count(*) FROM _x_before b LEFT JOIN _x_after a USING (id_number) "
                "WHERE a.accepted IS NOT TRUE"
            )
        )
        # The source's open departures are settled by this ledger: listed again, or flagged anew below.
        db.execute(
            f"UPDATE hub_departures d SET closed_by = $sid WHERE d.township_code = $town "
            f"AND d.source = $source AND {_OPEN} AND {_LIVE}",
            {"sid": sid, "town": town, "source": source},
        )
        db.execute(
            """
            INSERT INTO hub_departures
            SELECT nextval('hub_departure_seq'), c.code, b.id_number, b.name, $town, $source, b.row_sub,
                   $sid, $now, NULL, NULL, NULL,
                   CASE WHEN a.id_number IS NOT NULL THEN '新报送中该人员的行被退回（有错误），改正后重新上传即可' END,
                   NULL
            FROM _x_before b LEFT JOIN _x_after a USING (id_number)
            LEFT JOIN hub_codes c ON c.entity = 'person' AND c.natural_key = b.id_number
            WHERE a.accepted IS NOT TRUE
            ORDER BY b.id_number
            """,
            {"sid": sid, "town": town, "source": source, "now": now},
        )
        for old in olds:
            db.execute(
                "INSERT INTO hub_supersessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [old, sid, town, source, int(counts["added"]), int(counts["changed"]), left, now],
            )
        db.execute("DROP TABLE IF EXISTS _x_before")
        db.execute("DROP TABLE IF EXISTS _x_after")


def describe(db: Database, submission_id: int) -> dict[str, Any] | None:
    """What a resubmission changed, for the ingest summary: the superseded submission(s), persons
    added, changed, and left (待核实). None when the submission replaced nothing."""
    rows = db.dicts(
        """SELECT s.old_submission_id, coalesce(o.file_name, w.file_name) AS file_name,
                  coalesce(o.submitted_at, w.submitted_at) AS submitted_at, s.added, s.changed, s.left_count
           FROM hub_supersessions s
           LEFT JOIN hub_submissions o ON o.submission_id = s.old_submission_id
           LEFT JOIN hub_withdrawals w ON w.submission_id = s.old_submission_id
           WHERE s.new_submission_id = ? ORDER BY s.old_submission_id DESC""",
        [submission_id],
    )
    if not rows:
        return None
    first = rows[0]
    return {
        "superseded": [
            {
                "submission_id": int(r["old_submission_id"]),
                "file": r["file_name"],
                "submitted_at": f"{r['submitted_at']:%Y-%m-%d %H:%M}" if r["submitted_at"] else None,
            }
            for r in rows
        ],
        "added": int(first["added"]),
        "changed": int(first["changed"]),
        "left": int(first["left_count"]),
        "message": summary_text(rows, first),
    }


def summary_text(rows: list[dict[str, Any]], first: dict[str, Any]) -> str:
    names = "、".join(f"{r['file_name']}（提交号 {r['old_submission_id']}）" for r in rows)
    text = (
        f"本次报送取代了 {names}：新增 {first['added']} 人，信息有变化 {first['changed']} 人，"
        f"不再列出 {first['left_count']} 人"
    )
    if first["left_count"]:
        text += "（待核实：请逐一说明迁出、死亡或漏报；说明前其原有记录照常报送各部门）"
    return text + "。"


def summary_line(report: dict[str, Any]) -> str | None:
    """One line of the CLI's ingest summary for a file report (its ``resubmission``), or None."""
    resub = report.get("resubmission")
    if not resub:
        return None
    return f"{_name(report.get('file'))}：{resub['message']}"


def _name(path: Any) -> str:
    text = str(path or "")
    return text.replace("\\", "/").rsplit("/", 1)[-1]


def list_departures(db: Database, township: str | None = None, *, all_: bool = False) -> list[dict[str, Any]]:
    """The residents left out by resubmissions, open ones first (``all_``: the answered ones too),
    with the ledgers concerned. Only departures whose submissions are still stored."""
    where = [_LIVE]
    params: dict[str, Any] = {}
    if township:
        where.append("d.township_code = $town")
        params["town"] = township
    if not all_:
        where.append("d.answer IS NULL")
    return [
        {**r, "status": "待核实" if r["answer"] is None else r["answer"]}
        for r in db.dicts(
            f"""
            SELECT d.departure_id, coalesce(c.code, d.person_code) AS person_code, d.id_number, d.name,
                   d.township_code, dv.name AS township_name, d.old_submission_id, o.file_name AS old_file,
                   d.new_submission_id, n.file_name AS new_file, d.flagged_at, d.answer, d.answered_by,
                   d.answered_at, d.note
            FROM hub_departures d
            JOIN hub_submissions o ON o.submission_id = d.old_submission_id
            JOIN hub_submissions n ON n.submission_id = d.new_submission_id
            LEFT JOIN (SELECT natural_key, coalesce(redirect_to, code) AS code FROM hub_codes
                       WHERE entity = 'person') c ON c.natural_key = d.id_number
            LEFT JOIN hub_divisions dv ON dv.code = d.township_code
            WHERE {" AND ".join(where)}
            ORDER BY d.answer IS NOT NULL, d.township_code, d.departure_id
            """,
            params,
        )
    ]


def answer_departure(
    db: Database,
    departure_id: int,
    answer: str,
    *,
    by: str,
    note: str | None = None,
    township: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record the clerk's answer (迁出 / 死亡 / 漏报) on a departure and keep it in ``hub_answers``.
    ``township``: the clerk's own township (another township's departure is refused as unknown).
    The caller merges so that the answer reaches the reports."""
    answer = (answer or "").strip()
    by = (by or "").strip()
    if answer not in ANSWERS:
        raise HubError(f"核实结果只能是 迁出、死亡 或 漏报（收到“{answer[:20]}”）。", code="bad-answer")
    if not by:
        raise HubError("请写明核实人（--by）。", code="answer-by")
    found = [
        d for d in list_departures(db, township, all_=True) if int(d["departure_id"]) == int(departure_id)
    ]
    if not found:
        raise HubError(
            f"没有编号为 {departure_id} 的待核实人员。请用 hub departures 查看编号。",
            code="departure-unknown",
        )
    when = now or datetime.now()
    note = (note or "").strip()[:500] or None
    with db.transaction():
        db.execute(
            "UPDATE hub_departures SET answer = ?, answered_by = ?, answered_at = ?, note = coalesce(?, note) "
            "WHERE departure_id = ?",
            [answer, by, when, note, departure_id],
        )
        db.execute(
            "INSERT INTO hub_answers VALUES ('departure', ?, ?, ?, ?, ?)",
            [departure_id, answer, note, by, when],
        )
    return {**found[0], "answer": answer, "answered_by": by, "answered_at": when, "status": answer,
            "note": note or found[0]["note"]}  # fmt: skip


def removal_reason(db: Database, id_number: str) -> str | None:
    """The clerk's answer (迁出 / 死亡) that took a resident's row out of a source, if any: the reason a
    change feed gives for the record's removal."""
    found = db.rows(
        f"SELECT d.answer FROM hub_departures d WHERE d.id_number = ? AND d.answer IN ('迁出', '死亡') "
        f"AND {_LIVE} ORDER BY d.answered_at DESC LIMIT 1",
        [id_number],
    )
    return str(found[0][0]) if found else None


def answers(db: Database, item: str, item_id: int) -> list[dict[str, Any]]:
    """Every answer given on a departure or a feedback item, oldest first."""
    return db.dicts(
        "SELECT answer, note, answered_by, answered_at FROM hub_answers WHERE item = ? AND item_id = ? "
        "ORDER BY answered_at",
        [item, item_id],
    )


def answer(hub: Any, departure_id: int, answer: str, *, by: str, note: str | None = None,
           township: str | None = None) -> dict[str, Any]:  # fmt: skip
    """:func:`answer_departure`, then the merge, so the answer reaches every report at once (迁出 and
    死亡 take the resident's old row out; 漏报 keeps it). Returns the departure and ``persons``."""
    with hub._unit("核实"):
        done = answer_departure(hub.db, departure_id, answer, by=by, note=note, township=township)
        merged = hub.merge()
    return {**done, "persons": merged.persons}

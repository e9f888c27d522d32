"""The changes feed (数据订阅): what changed in a report between the snapshot a cursor names and the
snapshot of the store's current version (docs/exchange.md).

Records are compared whole (their rows as JSON) in an engine of the feed's own, set-based:

* ``added``: records the department did not have (every record when there is no cursor);
* ``changed``: the record's new rows and, field by field, ``old → new``;
* ``removed``: tombstones with the reason (死亡, 迁出, 撤回, 合并, 不再符合条件) and a detail.

The department keeps its records by (sheet, key): it replaces the rows of every added or changed
record and deletes every removed one, and then holds exactly the report at the new cursor.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import HubError
from hub.exchange import cache, versions
from hub.exchange.snapshot import Snapshot, find, records_db, snapshot
from hub.sqltext import sql_literal

if TYPE_CHECKING:
    from collections.abc import Callable

    from hub.store.db import Database
    from hub.store.engine import QueryEngine

REASONS = ("死亡", "迁出", "撤回", "合并", "不再符合条件")


@dataclass
class Changes:
    body: bytes  # the JSON the API returns and `hub changes --json` prints
    report: str
    department: str
    township: str | None
    date: dt.date
    since: str | None
    cursor: str
    from_version: int | None
    to_version: int
    added: int
    changed: int
    removed: int
    reasons: dict[str, int]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def items(self) -> int:
        return self.added + self.changed + self.removed


def changes(
    db: Database,
    home: Path,
    report_id: str,
    township: str | None,
    since: str | None,
    ref: dt.date,
    *,
    compute_lock: Any = None,
    engine: Callable[[], QueryEngine] | None = None,
) -> Changes:
    """The changes of a report (one township, or county-wide) since ``since`` (None: all records).
    The snapshot's report queries run on ``engine()`` when it must be computed
    (:func:`hub.exchange.snapshot.snapshot`); the two snapshots' records are compared here, in an
    engine of the feed's own over their Parquet files (one report of one township, or of the county)."""
    new = snapshot(
        db, home, report_id, township, ref, with_file=False, compute_lock=compute_lock, engine=engine
    )
    town = new.meta["township"]
    old: Snapshot | None = None
    if since:
        old = find(home, report_id, town, since.strip())
        if old is None or int(old.meta["version"]) > int(new.meta["version"]):
            raise HubError(
                f"游标“{since}”无效或已过期（{report_id}，{town or '全县'}）。"
                "请不带 since 重新拉取全部记录，之后用返回的新游标拉取变更。",
                code="cursor-unknown",
            )
    with records_db() as mem:
        new_src = f"read_parquet({sql_literal(str(new.records_path))})"
        if old is None:
            mem.execute(
                f"CREATE TEMP TABLE d AS SELECT _sheet_no, _ord, _sheet, _key, NULL::VARCHAR AS _code, "
                f"NULL::VARCHAR AS old, rec AS new FROM {new_src}"
            )
        else:
            old_src = f"read_parquet({sql_literal(str(old.records_path))})"
            mem.execute(
                "CREATE TEMP TABLE d AS SELECT coalesce(b._sheet_no, a._sheet_no) AS _sheet_no, "
                "coalesce(b._ord, a._ord) AS _ord, coalesce(b._sheet, a._sheet) AS _sheet, "
                "coalesce(b._key, a._key) AS _key, a._code, a.rec AS old, b.rec AS new "
                f"FROM {old_src} a FULL JOIN {new_src} b ON a._sheet = b._sheet AND a._key = b._key "
                "WHERE a.rec IS DISTINCT FROM b.rec"
            )
        added = mem.scalar(
            """SELECT coalesce(string_agg('{"sheet":' || to_json(_sheet) || ',"key":' || to_json(_key)
                      || ',"rows":' || new || '}', ',' ORDER BY _sheet_no, _ord), '')
               FROM d WHERE old IS NULL"""
        )
        n_added = int(mem.scalar("SELECT count(*) FROM d WHERE old IS NULL") or 0)
        changed = [
            {"sheet": s, "key": k, "rows": json.loads(n), "fields": _fields(json.loads(o), json.loads(n))}
            for s, k, o, n in mem.rows(
                "SELECT _sheet, _key, old, new FROM d WHERE old IS NOT NULL AND new IS NOT NULL "
                "ORDER BY _sheet_no, _ord"
            )
        ]
        gone = mem.rows("SELECT _sheet, _key, _code FROM d WHERE new IS NULL ORDER BY _sheet_no, _ord")
    salt = f"{cache.secret(home)}|{new.meta['department']}|"
    why = _reasons(db, [c for _, _, c in gone if c], old, new, salt) if gone else {}
    removed = [
        {
            "sheet": s,
            "key": k,
            **why.get(c or "", {"reason": "不再符合条件", "detail": "已不在本报表的统计范围内"}),
        }
        for s, k, c in gone
    ]
    tally: dict[str, int] = {}
    for r in removed:
        tally[r["reason"]] = tally.get(r["reason"], 0) + 1
    head = {
        "report": new.meta["report"],
        "department": new.meta["department"],
        "township": town,
        "date": new.meta["date"],
        "since": since or None,
        "cursor": new.cursor,
        "from_version": None if old is None else int(old.meta["version"]),
        "to_version": int(new.meta["version"]),
        "records": int(new.meta["records"]),
        "counts": {"added": n_added, "changed": len(changed), "removed": len(removed)},
        "totals": new.meta.get("totals") or {},
    }
    text = json.dumps(head, ensure_ascii=False, default=str)[:-1]
    text += f',"added":[{added}],"changed":{json.dumps(changed, ensure_ascii=False, default=str)}'
    text += f',"removed":{json.dumps(removed, ensure_ascii=False)}}}'
    return Changes(
        text.encode("utf-8"),
        head["report"],
        head["department"],
        town,
        dt.date.fromisoformat(str(head["date"])),
        since or None,
        new.cursor,
        head["from_version"],
        head["to_version"],
        n_added,
        len(changed),
        len(removed),
        tally,
    )


def _fields(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Field by field, row by row of the record (a household's members in the report's order)."""
    out = []
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else {}
        b = new[i] if i < len(new) else {}
        for field in dict.fromkeys([*a, *b]):
            if a.get(field) != b.get(field):
                out.append({"row": i + 1, "field": field, "old": a.get(field), "new": b.get(field)})
    return out


def _reasons(
    db: Database, codes: list[str], old: Snapshot | None, new: Snapshot, salt: str
) -> dict[str, dict[str, str]]:
    """Why each removed record left (entity code → reason, detail), from the store as it is now."""
    departures = (
        """LEFT JOIN (SELECT person_code, arg_max(answer, answered_at) AS answer,
                             arg_max(answered_by, answered_at) AS answered_by, max(answered_at) AS answered_at
                      FROM hub_departures WHERE answer IN ('迁出', '死亡') GROUP BY person_code) dep
                  ON dep.person_code = r.code"""
        if db.table_exists("hub_departures")
        else "LEFT JOIN (SELECT NULL::VARCHAR AS answer, NULL::VARCHAR AS answered_by, "
        "NULL::TIMESTAMP AS answered_at) dep ON false"
    )
    rows = db.dicts(
        f"""
        WITH r AS (SELECT DISTINCT unnest(?::VARCHAR[]) AS code)
        SELECT r.code, p.person_code IS NOT NULL AS is_person, p.alive, p.death_date,
               p.township_code AS person_town, (SELECT name FROM hub_divisions WHERE code = p.township_code) AS town_name,
               h.household_code IS NOT NULL AS is_household,
               (SELECT bool_and(NOT pp.alive) FROM hub_membership m JOIN hub_person pp USING (person_code)
                WHERE m.household_code = r.code) AS all_dead,
               b.business_code IS NOT NULL AS is_business,
               (SELECT max(redirect_to) FROM hub_codes c WHERE c.code = r.code) AS redirect_to,
               dep.answer, dep.answered_by, dep.answered_at
        FROM r
        LEFT JOIN hub_person p ON p.person_code = r.code
        LEFT JOIN (SELECT DISTINCT household_code FROM hub_household) h ON h.household_code = r.code
        LEFT JOIN hub_business b ON b.business_code = r.code
        {departures}
        """,
        [codes],
    )
    withdrawn = _withdrawals(db, old, new)
    town = new.meta.get("township")
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        if r["is_person"] and r["alive"] is False:
            died = f"死亡日期 {r['death_date']}" if r["death_date"] else "人员状态为死亡"
            out[r["code"]] = {"reason": "死亡", "detail": died}
        elif r["answer"] in ("迁出", "死亡"):
            when = f"{r['answered_at']:%Y-%m-%d}" if r["answered_at"] else ""
            out[r["code"]] = {
                "reason": r["answer"],
                "detail": f"乡镇核实：{r['answer']}（{r['answered_by'] or ''} {when}）".replace(" ）", "）"),
            }
        elif town and r["is_person"] and r["person_town"] and r["person_town"] != town:
            where = r["town_name"] or r["person_town"]
            out[r["code"]] = {"reason": "迁出", "detail": f"现由{where}登记（以最近一次报送为准）"}
        elif r["is_household"] and r["all_dead"]:
            out[r["code"]] = {"reason": "死亡", "detail": "家庭成员均已死亡"}
        elif r["redirect_to"]:
            key = "K" + hashlib.sha256(f"{salt}{r['redirect_to']}".encode()).hexdigest()[:20]
            out[r["code"]] = {"reason": "合并", "detail": f"经核实与记录 {key} 为同一对象，已并入该记录"}
        elif not (r["is_person"] or r["is_household"] or r["is_business"]) and withdrawn:
            out[r["code"]] = {"reason": "撤回", "detail": withdrawn}
    return out


def _withdrawals(db: Database, old: Snapshot | None, new: Snapshot) -> str:
    """The withdrawals between the two versions, as one line ('' when there were none)."""
    after = versions.stamped_at(db, int(old.meta["version"])) if old is not None else None
    until = versions.stamped_at(db, int(new.meta["version"]))
    rows = db.rows(
        "SELECT file_name, reason FROM hub_withdrawals WHERE (? IS NULL OR withdrawn_at > ?) "
        "AND (? IS NULL OR withdrawn_at <= ?) ORDER BY withdrawn_at",
        [after, after, until, until],
    )
    return "；".join(f"报送文件 {f} 已撤回（原因：{why}）" for f, why in rows)


def log_pull(
    db: Database,
    got: Changes,
    *,
    purpose: str,
    channel: str = "cli",
    username: str | None = None,
    role: str = "operator",
) -> None:
    """Record a changes pull in the access log (as every pull is): who, what, why, the body's hash."""
    with db.transaction():
        access_id = int(db.scalar("SELECT nextval('hub_access_seq')"))
        db.execute(
            "INSERT INTO hub_access_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                access_id,
                dt.datetime.now(),
                username or getpass.getuser(),
                role,
                got.department,
                channel,
                got.report,
                got.township,
                got.date,
                purpose,
                "changes",
                got.items,
                got.sha256,
            ],
        )

"""Data flowing back to the township (回流): what the county knows of a township's residents that the
township did not submit, and department feedback on records, open until the clerk answers it.

:func:`flowback` gathers, for one township (docs/web.md, "回流"):

* ``values``: values of its residents (persons counted in the township) that only other townships'
  ledgers gave (no ledger of the township has that value for that field). Only the fields of
  :data:`SHOWN_FIELDS` are shown with their value and the other township's name and date; never a
  file name, sheet, row, address, village, phone, household number or a sensitive (低保, 残疾) value
  (the same rule as the conflicts page, :mod:`hub.serve.privacy`);
* ``conflicts``: conflicts decided against the township's own value (:func:`clerk_conflicts`
  already reduced to what the clerk may see);
* ``fills``: rows of the township's own files whose ID number linkage filled from a sure match;
* ``feedback``: department feedback on its records not yet answered;
* ``departures``: residents its resubmissions left out, not yet answered (待核实).

Every answer (feedback and departures) is kept in ``hub_answers`` with who and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.errors import HubError
from hub.store.db import Database

if TYPE_CHECKING:
    from hub.facade import Hub
    from hub.model import Schema

#: Fields whose value another township gave is shown to the clerk (identity and civil facts).
SHOWN_FIELDS = ("name", "sex", "birth_date", "ethnicity", "marital_status", "person_status", "death_date")
ANSWERS = ("已更正", "核实无误", "非本乡镇人员")
ENTITY_OF_PREFIX = {"P": "person", "H": "household", "B": "business"}
_TOWN_OF = {
    "person": "SELECT township_code FROM hub_person WHERE person_code = ?",
    "household": "SELECT township_code FROM hub_household WHERE household_code = ?",
    "business": "SELECT township_code FROM hub_business WHERE business_code = ?",
}


def _field_name(schema: Schema, text: str | None) -> str | None:
    """A canonical field from its name or its Chinese label; None for the whole record."""
    text = (text or "").strip()
    if not text:
        return None
    if text in schema.fields:
        return text
    for name, spec in schema.fields.items():
        if text == spec.label or text in spec.synonyms:
            return name
    raise HubError(
        f"没有名为“{text[:30]}”的字段。请填写字段名（如 phone）或中文名称（如 联系电话），或留空表示整条记录。",
        code="field-unknown",
    )


def post_feedback(
    db: Database,
    schema: Schema,
    *,
    record: str,
    field: str | None,
    message: str,
    department: str,
    by: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store a department's feedback on a record (person, household or business code; an absorbed
    code is followed to the record that absorbed it). Returns the stored item."""
    code = (record or "").strip().upper()
    message = (message or "").strip()
    if not message:
        raise HubError("请说明哪里有误（message）。", code="message-required")
    if len(message) > 1000:
        raise HubError("说明不能超过 1000 字。", code="message-too-long")
    entity = ENTITY_OF_PREFIX.get(code[:1])
    found = (
        db.rows("SELECT coalesce(redirect_to, code) FROM hub_codes WHERE code = ?", [code]) if entity else []
    )
    if not entity or not found:
        raise HubError(
            f"没有编码为“{code[:20]}”的记录。请填写报表中的人员编码（P…）、家庭编码（H…）或市场主体编码（B…）。",
            code="record-unknown",
        )
    code = str(found[0][0])
    town = db.rows(_TOWN_OF[entity], [code])
    if not town:
        raise HubError(f"记录 {code} 目前不在任何报表中（已撤回或已迁出），无法反馈。", code="record-gone")
    name = _field_name(schema, field)
    fid = int(db.scalar("SELECT nextval('hub_feedback_seq')"))
    db.execute(
        "INSERT INTO hub_feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)",
        [fid, entity, code, name, message, town[0][0], department, by, now or datetime.now()],
    )
    return list_feedback(db, all_=True, feedback_id=fid)[0]


def list_feedback(
    db: Database,
    township: str | None = None,
    *,
    department: str | None = None,
    all_: bool = False,
    feedback_id: int | None = None,
) -> list[dict[str, Any]]:
    """Feedback items, open ones first (``all_``: answered ones too), each with its answers."""
    where: list[str] = ["true"]
    params: dict[str, Any] = {}
    if township:
        where.append("f.township_code = $town")
        params["town"] = township
    if department:
        where.append("f.department = $dept")
        params["dept"] = department
    if not all_:
        where.append("f.answer IS NULL")
    if feedback_id is not None:
        where.append("f.feedback_id = $fid")
        params["fid"] = feedback_id
    rows = db.dicts(
        f"""
        SELECT f.*, p.name AS record_name, d.name AS township_name,
               (SELECT list({{'answer': a.answer, 'note': a.note, 'by': a.answered_by,
                              'at': strftime(a.answered_at, '%Y-%m-%d %H:%M')}} ORDER BY a.answered_at)
                FROM hub_answers a WHERE a.item = 'feedback' AND a.item_id = f.feedback_id) AS answers
        FROM hub_feedback f
        LEFT JOIN hub_person p ON f.entity = 'person' AND p.person_code = f.record_code
        LEFT JOIN hub_divisions d ON d.code = f.township_code
        WHERE {" AND ".join(where)}
        ORDER BY f.answer IS NOT NULL, f.feedback_id
        """,
        params,
    )
    for r in rows:
        r["answers"] = r["answers"] or []
        r["status"] = "待答复" if r["answer"] is None else r["answer"]
    return rows


def answer_feedback(
    db: Database,
    feedback_id: int,
    answer: str,
    *,
    by: str,
    note: str | None = None,
    township: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The clerk's answer to a feedback item (:data:`ANSWERS`), kept with who and when."""
    answer, by = (answer or "").strip(), (by or "").strip()
    if answer not in ANSWERS:
        raise HubError(f"答复只能是 {'、'.join(ANSWERS)}（收到“{answer[:20]}”）。", code="bad-answer")
    if not by:
        raise HubError("请写明答复人（--by）。", code="answer-by")
    found = list_feedback(db, township, all_=True, feedback_id=int(feedback_id))
    if not found:
        raise HubError(
            f"没有编号为 {feedback_id} 的部门反馈。请用 hub feedback 查看编号。", code="feedback-unknown"
        )
    when, note = now or datetime.now(), (note or "").strip()[:500] or None
    with db.transaction():
        db.execute(
            "UPDATE hub_feedback SET answer = ?, answered_by = ?, answered_at = ?, note = ? WHERE feedback_id = ?",
            [answer, by, when, note, feedback_id],
        )
        db.execute(
            "INSERT INTO hub_answers VALUES ('feedback', ?, ?, ?, ?, ?)",
            [feedback_id, answer, note, by, when],
        )
    return list_feedback(db, all_=True, feedback_id=int(feedback_id))[0]


def _label(schema: Schema, field: str, value: Any) -> str:
    spec = schema.fields.get(field)
    text = "" if value is None else str(value)
    if spec is not None and spec.type == "code" and spec.codelist in schema.codelists:
        return schema.codelists[spec.codelist].label_of(text) or text
    return text


def other_values(hub: Hub, town: str) -> list[dict[str, Any]]:
    """Values of the township's residents that only other townships' ledgers gave (SHOWN_FIELDS)."""
    schema = hub.schema
    rows = hub.db.dicts(
        """
        WITH mine AS (SELECT person_code, name FROM hub_person WHERE township_code = $town),
        v AS (
            SELECT v.entity_code, v.field, v.value, s.township_code AS src_town, v.submitted_at
            FROM hub_values v JOIN hub_submissions s USING (submission_id)
            WHERE v.entity = 'person' AND list_contains($fields, v.field)
              AND v.entity_code IN (SELECT person_code FROM mine)
        )
        SELECT m.person_code, m.name, v.field, v.value,
               list(DISTINCT coalesce(d.name, '县级台账') ORDER BY coalesce(d.name, '县级台账')) AS towns,
               strftime(min(v.submitted_at), '%Y-%m-%d') AS since
        FROM v JOIN mine m ON m.person_code = v.entity_code
        LEFT JOIN hub_divisions d ON d.code = v.src_town
        WHERE v.src_town IS DISTINCT FROM $town
          AND NOT EXISTS (SELECT 1 FROM v o WHERE o.entity_code = v.entity_code AND o.field = v.field
                          AND o.value = v.value AND o.src_town = $town)
        GROUP BY ALL ORDER BY m.person_code, v.field, v.value
        """,
        {"town": town, "fields": list(SHOWN_FIELDS)},
    )
    return [
        {
            "code": r["person_code"],
            "name": r["name"],
            "field": r["field"],
            "field_label": schema.fields[r["field"]].label if r["field"] in schema.fields else r["field"],
            "value": _label(schema, r["field"], r["value"]),
            "towns": list(r["towns"]),
            "since": r["since"],
        }
        for r in rows
    ]


def fills(db: Database, town: str) -> list[dict[str, Any]]:
    """Rows of the township's files whose ID linkage filled from a sure match (the clerk should write
    it into her ledger)."""
    return db.dicts(
        """
        SELECT f.submission_id, s.file_name, f.sheet, f.row_no, r.name, f.id_number,
               round(f.match_probability, 3) AS probability, c.code
        FROM hub_link_fills f
        JOIN hub_submissions s USING (submission_id)
        JOIN hub_rows r USING (submission_id, sheet, row_no)
        LEFT JOIN hub_codes c ON c.entity = 'person' AND c.natural_key = f.id_number
        WHERE s.township_code = ?
          AND f.submission_id NOT IN (SELECT submission_id FROM hub_superseded)
        ORDER BY f.submission_id DESC, f.sheet, f.row_no
        """,
        [town],
    )


def lost_conflicts(hub: Hub, town: str) -> list[dict[str, Any]]:
    """Conflicts decided against the township's own value, as the clerk may see them."""
    from hub.serve.privacy import clerk_conflicts

    out = []
    for c in clerk_conflicts(hub, town):
        own = {s.get("value") for s in c["sources"] if not s.get("foreign")}
        if c["kind"] == "值不一致" and own and (c["chosen_hidden"] or c["chosen"] not in own):
            c["field_label"] = (
                hub.schema.fields[c["field"]].label if c["field"] in hub.schema.fields else c["field"]
            )
            out.append(c)
    return out


def flowback(hub: Hub, town: str) -> dict[str, Any]:
    """Everything that flows back to one township (see the module's docstring)."""
    from hub.exchange.departures import list_departures

    return {
        "township": town,
        "departures": list_departures(hub.db, town),
        "feedback": list_feedback(hub.db, town),
        "values": other_values(hub, town),
        "conflicts": lost_conflicts(hub, town),
        "fills": fills(hub.db, town),
    }


FLOWBACK_SHEET = "回流与核实"
FLOWBACK_HEADERS = ("类别", "编码", "姓名", "字段", "内容", "来源", "请您")


def flowback_rows(data: dict[str, Any], schema: Schema) -> list[tuple[str, ...]]:
    """The lines of the 一张表's 回流与核实 sheet (one per item of :func:`flowback`)."""

    def label(field: str | None) -> str:
        return schema.fields[field].label if field and field in schema.fields else "整条记录"

    rows: list[tuple[str, ...]] = []
    for d in data["departures"]:
        rows.append(("待核实", d["person_code"] or "", d["name"] or "", "", f"{d['old_file']} 有，{d['new_file']} 无",
                     "本乡镇重新报送", "在网页“回流与核实”说明迁出、死亡或漏报"))  # fmt: skip
    for f in data["feedback"]:
        rows.append(("部门反馈", f["record_code"], f["record_name"] or "", label(f["field"]), f["message"],
                     f"{f['department']}（{f['posted_at']:%Y-%m-%d}）", "核对后在网页答复，需要时改正本表"))  # fmt: skip
    for v in data["values"]:
        rows.append(("其他乡镇登记", v["code"], v["name"] or "", v["field_label"], v["value"],
                     f"{'、'.join(v['towns'])}（自 {v['since']}）", "核对，无误请补进本表"))  # fmt: skip
    for c in data["conflicts"]:
        chosen = "以其他乡镇登记为准" if c["chosen_hidden"] else str(c["chosen"] or "")
        rows.append(("未采用本乡镇的值", c["code"] or "", c["name"] or "", c["field_label"], chosen, c["rule"],
                     "核对本乡镇的值"))  # fmt: skip
    for f in data["fills"]:
        rows.append(("按比对补全号码", f["code"] or "", f["name"] or "", label("id_number"), f["id_number"],
                     f"{f['file_name']} 第{f['row_no']}行", "把号码补进本表"))  # fmt: skip
    return rows


def write_flowback_sheet(wb: Any, hub: Hub, town: str) -> int:
    """The 一张表's 回流与核实 sheet (read-only information; the ingest skips it: no person columns
    a ledger kind needs). Returns its number of lines."""
    from openpyxl.styles import Font, PatternFill

    from hub.safecell import set_text

    ws = wb.create_sheet(FLOWBACK_SHEET)
    rows = flowback_rows(flowback(hub, town), hub.schema)
    set_text(
        ws.cell(1, 1), "县里掌握而本乡镇未报送的信息、部门反馈和待核实人员（仅供核对，上传时本表不导入）"
    )
    ws.cell(1, 1).font = Font(name="宋体", bold=True, size=12)
    for j, head in enumerate(FLOWBACK_HEADERS, start=1):
        cell = ws.cell(2, j)
        set_text(cell, head)
        cell.font, cell.fill = Font(name="宋体", bold=True), PatternFill("solid", fgColor="FCE4D6")
        ws.column_dimensions[chr(64 + j)].width = (12, 14, 10, 12, 40, 26, 30)[j - 1]
    for i, row in enumerate(rows, start=3):
        for j, value in enumerate(row, start=1):
            set_text(ws.cell(i, j), value)
            ws.cell(i, j).number_format = "@"
    if not rows:
        set_text(ws.cell(3, 1), "没有需要核对的回流信息。")
    return len(rows)


def open_counts(db: Database, town: str) -> dict[str, int]:
    """What waits for the township's answer: residents 待核实 and department feedback."""
    from hub.exchange.departures import _LIVE

    return {
        "departures": int(
            db.scalar(
                f"SELECT count(*) FROM hub_departures d WHERE d.township_code = ? AND d.answer IS NULL AND {_LIVE}",
                [town],
            )
        ),
        "feedback": int(
            db.scalar("SELECT count(*) FROM hub_feedback WHERE township_code = ? AND answer IS NULL", [town])
        ),
    }

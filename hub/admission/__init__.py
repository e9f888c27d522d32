"""Report admission (报表准入) and the county's burden ledger (docs/admission.md).

The facade, the CLI and the web pages call only these functions:

* :func:`submit` — a department's draft (xlsx template or column list) stored, reviewed at once;
* :func:`review` — column by column: from the model (with the expression), with a 口径 to confirm
  (which question), already collected by another admitted report (which), or new; the burden of
  what is new per township and month beside the burden of the whole form without the hub;
* :func:`decide` — admit / return / reject with a reason; admission writes the mapping spec
  (checked like ``hub mappings check``), its entitlement, the new fields, the registry entry;
* :func:`registry`, :func:`registered_ids` — 报表清单; a report not in it is not exported;
* :func:`burden_ledger` — per township and month, typed, delivered, 字段复用率, prevented.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hub.admission.burden import draft_burden, infer_population, ledger, record_deliveries
from hub.admission.classify import (
    KINDS,
    LOADER,
    Classified,
    DraftColumn,
    classify,
    extension_expr,
    signature,
)
from hub.admission.draft import DEPT_PREFIX, PERIODS, Draft, read_draft
from hub.errors import HubError
from hub.extension import NewField, add_fields, create_views
from hub.extension import restore as restore_fields
from hub.paths import mappings_dir, schemas_dir

if TYPE_CHECKING:
    from hub.ingest.divisions import Divisions
    from hub.model import Schema
    from hub.store.db import Database

__all__ = [
    "DECISIONS",
    "burden_ledger",
    "decide",
    "drafts",
    "record_deliveries",
    "registered_ids",
    "registry",
    "review",
    "submit",
    "submit_draft",
]
#: a draft whose fillable columns are this much one registered report's is flagged as its duplicate
DUPLICATE_SHARE = 0.75
DECISIONS = {"admit": "准入", "return": "退回修改", "reject": "不予准入"}
STATUS = {"submitted": "待审", "admitted": "已准入", "returned": "已退回", "rejected": "不予准入"}


# -- the registry ----------------------------------------------------------------------------------
def _base_registry() -> dict[str, dict[str, Any]]:
    path = schemas_dir() / "registry.yaml"
    if not path.is_file():
        return {}
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER) or {}
    return dict(data.get("reports") or {})


def registered_ids(db: Database) -> set[str]:
    """报表清单: the reports registered at setup (schemas/registry.yaml) and those admitted since."""
    ids = set(_base_registry())
    ids |= {r for (r,) in db.rows("SELECT report_id FROM hub_report_registry")}
    return ids


def _spec_headers(report_id: str) -> list[list[str]]:
    path = mappings_dir() / f"{report_id}.yaml"
    if not path.is_file():
        return []
    return list(_spec_of(str(path), path.stat().st_mtime)[1])


@lru_cache(maxsize=128)
def _spec_of(path: str, mtime: float) -> tuple[str, tuple[list[str], ...]]:
    """(title, column header paths) of a spec file, read once per version of the file."""
    try:
        spec = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=LOADER)
        return str(spec.get("title", "")), tuple(c["header"] for s in spec["sheets"] for c in s["columns"])
    except (yaml.YAMLError, KeyError, TypeError, AttributeError):
        return "", ()


def registry(db: Database) -> list[dict[str, Any]]:
    out = []
    for rid, entry in sorted(_base_registry().items()):
        out.append(
            {
                "report_id": rid,
                "department": entry.get("department"),
                "title": entry.get("title"),
                "period": entry.get("period"),
                "period_label": PERIODS.get(entry.get("period", ""), ""),
                "fields": "；".join("/".join(h) for h in _spec_headers(rid)),
                "legal_basis": entry.get("legal_basis"),
                "admitted_by": "建库登记",
                "admitted_at": None,
                "draft_id": None,
                "spec": (mappings_dir() / f"{rid}.yaml").is_file(),
            }
        )
    for row in db.dicts("SELECT * FROM hub_report_registry ORDER BY admitted_at"):
        row["period_label"] = PERIODS.get(row["period"], "")
        row["spec"] = (mappings_dir() / f"{row['report_id']}.yaml").is_file()
        out.append(row)
    return out


# -- drafts ----------------------------------------------------------------------------------------
def submit(
    db: Database,
    schema: Schema,
    path: Path,
    *,
    department: str,
    by: str,
    divisions: Divisions | None = None,
    title: str | None = None,
    period: str | None = None,
    ref: dt.date | None = None,
) -> dict[str, Any]:
    """Read the draft in ``path``, store it, and return its review."""
    draft = read_draft(path, schema, divisions, department=department, title=title, period=period)
    return submit_draft(db, schema, draft, by=by, divisions=divisions, ref=ref)


def submit_draft(
    db: Database,
    schema: Schema,
    draft: Draft,
    *,
    by: str,
    divisions: Divisions | None = None,
    ref: dt.date | None = None,
) -> dict[str, Any]:
    with db.transaction():
        draft_id = int(db.scalar("SELECT nextval('hub_draft_seq')"))
        report_id = draft.report_id or f"{DEPT_PREFIX.get(draft.department, 'BM')}-D{draft_id:04d}"
        cols = [{"path": c.path, "note": c.note, "examples": c.examples[:20]} for c in draft.columns]
        db.execute(
            "INSERT INTO hub_drafts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'submitted')",
            [
                draft_id,
                report_id,
                draft.department,
                draft.title,
                draft.period,
                draft.population,
                draft.legal_basis,
                draft.source or "web",
                by,
                dt.datetime.now(),
                json.dumps(cols, ensure_ascii=False),
            ],
        )
    return review(db, schema, draft_id, divisions=divisions, ref=ref)


def drafts(db: Database, department: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE department = ?", [department]) if department else ("", [])
    rows = db.dicts(
        "SELECT draft_id, report_id, department, title, period, source, submitted_by, submitted_at, status "
        f"FROM hub_drafts {where} ORDER BY draft_id DESC",
        params,
    )
    for r in rows:
        r["status_label"] = STATUS.get(r["status"], r["status"])
        r["period_label"] = PERIODS.get(r["period"], r["period"])
    return rows


def _draft_row(db: Database, draft_id: int) -> dict[str, Any]:
    rows = db.dicts("SELECT * FROM hub_drafts WHERE draft_id = ?", [draft_id])
    if not rows:
        raise HubError(
            f"没有编号为 {draft_id} 的报表草案。", code="draft-missing", hint="用 hub admission list 查看。"
        )
    return rows[0]


@lru_cache(maxsize=64)
def _signatures_of(report_id: str, mtime: float) -> frozenset[str]:
    from hub.model import load_schema

    path = mappings_dir() / f"{report_id}.yaml"
    title, headers = _spec_of(str(path), mtime)
    if not headers:
        return frozenset()
    entity, cols = classify([DraftColumn(list(h)) for h in headers], load_schema())
    population = infer_population(title, entity, {c.field for c in cols if c.field}, "")
    return frozenset(s for c in cols if (s := signature(c, population)))


def _registered_signatures(db: Database, exclude: str | None) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for rid in sorted(registered_ids(db)):
        path = mappings_dir() / f"{rid}.yaml"
        if rid == exclude or not path.is_file():
            continue
        out[rid] = _signatures_of(rid, path.stat().st_mtime)
    for f in db.dicts("SELECT field_key, report_id FROM hub_extra_fields"):
        if f["report_id"] != exclude:
            out[f["report_id"]] = out.get(f["report_id"], frozenset()) | {f"extra:{f['field_key']}"}
    return out


def review(
    db: Database,
    schema: Schema,
    draft_id: int,
    *,
    divisions: Divisions | None = None,
    ref: dt.date | None = None,
) -> dict[str, Any]:
    """The admission review of a stored draft (also kept with the draft, as shown)."""
    row = _draft_row(db, draft_id)
    columns = [
        DraftColumn(c["path"], c.get("note", ""), c.get("examples", []))
        for c in json.loads(row["columns_json"])
    ]
    extra = db.dicts("SELECT field_key, label, report_id FROM hub_extra_fields ORDER BY added_at")
    own = row["report_id"] if row["status"] == "admitted" else None
    entity, cols = classify(columns, schema, divisions, extra, own=row["report_id"])
    counts = {k: sum(1 for c in cols if c.kind == k) for k in KINDS}
    fillable = [c for c in cols if c.fillable]
    aggregate = sum(1 for c in cols if c.question in ("count", "amount")) * 2 >= max(len(fillable), 1)
    fields = {c.field for c in cols if c.field}
    population = row["population"] or infer_population(
        row["title"], entity, fields, " ".join(c.header for c in cols)
    )
    registered = _registered_signatures(db, own)
    for c in cols:
        sig = signature(c, population)
        if sig:
            c.also_in = sorted(r for r, sigs in registered.items() if sig in sigs)
    new_cols = [c for c in cols if c.kind == "new"]
    burden = draft_burden(db, population, row["period"], aggregate, len(new_cols), len(fillable), ref)
    overlaps = []
    asked = [c for c in cols if c.kind != "form"]  # what the form asks a clerk for, 序号 and 备注 aside
    for rid in sorted({r for c in cols for r in c.also_in}):
        same = [c.index for c in cols if rid in c.also_in]
        overlaps.append(
            {"report_id": rid, "columns": same, "share": round(len(same) / max(len(asked), 1), 3)}
        )
    overlaps.sort(key=lambda o: -float(o["share"]))  # type: ignore[arg-type]
    duplicate = next(  # most of what it asks another report delivers, and nothing of its own
        (o for o in overlaps if float(o["share"]) >= DUPLICATE_SHARE and not counts["new"]),  # type: ignore[arg-type]
        None,
    )
    out = {
        "draft_id": draft_id,
        "report_id": row["report_id"],
        "department": row["department"],
        "title": row["title"],
        "period": row["period"],
        "period_label": PERIODS.get(row["period"], row["period"]),
        "source": row["source"],
        "submitted_by": row["submitted_by"],
        "submitted_at": f"{row['submitted_at']:%Y-%m-%d %H:%M}",
        "status": row["status"],
        "status_label": STATUS.get(row["status"], row["status"]),
        "legal_basis": row["legal_basis"],
        "entity": entity,
        "aggregate": aggregate,
        "counts": counts,
        "columns": [c.to_dict() for c in cols],
        "questions": [
            {"index": c.index, "header": c.header, "ask": c.ask} for c in cols if c.kind == "caliber"
        ],
        "overlaps": overlaps,
        "duplicate_of": duplicate["report_id"] if duplicate else None,
        "burden": burden,
        "decisions": [
            {
                **d,
                "decided_at": f"{d['decided_at']:%Y-%m-%d %H:%M}",
                "label": DECISIONS.get(d["decision"], d["decision"]),
            }
            for d in db.dicts(
                "SELECT * FROM hub_draft_decisions WHERE draft_id = ? ORDER BY decided_at", [draft_id]
            )
        ],
    }
    out["summary"] = _summary(out)
    if row["status"] == "submitted":
        db.execute(
            "UPDATE hub_drafts SET review_json = ? WHERE draft_id = ?",
            [json.dumps(out, ensure_ascii=False, default=str), draft_id],
        )
    return out


def _summary(r: dict[str, Any]) -> str:
    c, b = r["counts"], r["burden"]["county"]
    text = (
        f"共 {sum(c.values())} 栏：台账可直接生成 {c['model']}，需确认口径 {c['caliber']}，"
        f"其他报表已采集 {c['shared']}，新增采集 {c['new']}，表式栏目 {c['form']}。"
        f"全县每月填报：有一表通 {b['per_month_with_hub']:g} 格，无一表通 {b['per_month_without_hub']:g} 格。"
    )
    if r["duplicate_of"]:
        text += f"与已登记报表 {r['duplicate_of']} 重复。"
    return text


# -- decisions -------------------------------------------------------------------------------------
def decide(
    db: Database,
    schema: Schema,
    draft_id: int,
    decision: str,
    *,
    reason: str,
    by: str,
    divisions: Divisions | None = None,
) -> dict[str, Any]:
    """Admit, return or reject a draft, with who and why. Admission writes the spec and registers it."""
    from hub.admission.admit import build_spec, check_and_write

    if decision not in DECISIONS:
        raise HubError(
            f"决定应为 admit（准入）、return（退回）或 reject（不予准入），不是“{decision}”。",
            code="admission-usage",
        )
    if not (reason or "").strip():
        raise HubError("请写明理由（--reason）：每个决定都要留下为什么。", code="admission-usage")
    if not (by or "").strip():
        raise HubError("请写明决定人（--by）。", code="admission-usage")
    row = _draft_row(db, draft_id)
    if row["status"] != "submitted":
        raise HubError(
            f"草案 {draft_id} 已{STATUS.get(row['status'], row['status'])}，不能再作决定。",
            code="admission-decided",
            hint="部门可修改后重新提交。",
        )
    rev = review(db, schema, draft_id, divisions=divisions)
    now = dt.datetime.now()
    result: dict[str, Any] = {"draft_id": draft_id, "report_id": row["report_id"], "decision": decision}
    spec_text = None
    before: str | None = None  # extensions.yaml as it was, to put back if the admission fails
    if decision == "admit":
        if rev["report_id"] in registered_ids(db):
            raise HubError(f"报表 {rev['report_id']} 已在报表清单中，不能重复准入。", code="admission-exists")
        cols = [
            Classified(**{k: v for k, v in c.items() if k not in ("kind_label", "question_label")})
            for c in rev["columns"]
        ]
        added = _new_fields(rev, cols)
        before = add_fields(added)  # the model learns them first: the spec below reads them
        rev["columns"] = [c.to_dict() for c in cols]
        spec_text = build_spec(
            rev["report_id"],
            rev["department"],
            rev["title"],
            rev["period"],
            rev["burden"]["population"],
            rev["aggregate"],
            cols,
        )
        try:
            path = check_and_write(rev["report_id"], rev["department"], spec_text)
        except BaseException:
            restore_fields(before)
            raise
        result["spec"] = str(path)
        result["new_fields"] = [f.key for f in added]
    status = {"admit": "admitted", "return": "returned", "reject": "rejected"}[decision]
    try:
        with db.transaction():
            db.execute(
                "INSERT INTO hub_draft_decisions VALUES (?, ?, ?, ?, ?, ?)",
                [draft_id, now, by, decision, reason.strip(), rev["summary"]],
            )
            db.execute(
                "UPDATE hub_drafts SET status = ?, review_json = ? WHERE draft_id = ?",
                [status, json.dumps(rev, ensure_ascii=False, default=str), draft_id],
            )
            if decision == "admit" and spec_text is not None:
                c = rev["counts"]
                db.execute(
                    "INSERT INTO hub_report_registry VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        rev["report_id"],
                        rev["department"],
                        rev["title"],
                        rev["period"],
                        "；".join(x["header"] for x in rev["columns"]),
                        rev["legal_basis"],
                        by,
                        now,
                        draft_id,
                        c["model"] + c["caliber"],
                        c["shared"],
                        c["new"],
                    ],
                )
                entity = {"household": "household", "business": "business"}.get(rev["entity"], "person")
                for x in rev["columns"]:
                    if x["kind"] == "new":
                        db.execute(
                            "INSERT INTO hub_extra_fields VALUES (?, ?, ?, ?, ?, ?)",
                            [
                                x["field"] or _field_key(rev["report_id"], x["index"]),
                                x["label"] or x["header"],
                                entity,
                                x["note"],
                                rev["report_id"],
                                now,
                            ],
                        )
                last = int(
                    db.scalar(
                        "SELECT coalesce(max(version), 0) FROM hub_spec_versions WHERE report_id = ?",
                        [rev["report_id"]],
                    )
                )
                db.execute(
                    "INSERT INTO hub_spec_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        rev["report_id"],
                        last + 1,
                        now,
                        by,
                        hashlib.sha256(spec_text.encode()).hexdigest(),
                        spec_text,
                        f"报表准入（草案 {draft_id}）：{reason.strip()}",
                    ],
                )
        if decision == "admit":  # the views specs read admitted fields through, with the new columns
            from hub.model import load_schema

            create_views(db, load_schema())
    except BaseException:
        if decision == "admit":  # the store refused: take the written spec and the new fields back
            (mappings_dir() / f"{rev['report_id']}.yaml").unlink(missing_ok=True)
            restore_fields(before)
        raise
    result.update(
        status=status,
        status_label=STATUS[status],
        label=DECISIONS[decision],
        by=by,
        reason=reason.strip(),
        at=f"{now:%Y-%m-%d %H:%M}",
        summary=rev["summary"],
    )
    return result


def _field_key(report_id: str, index: int) -> str:
    return f"x_{re.sub(r'[^a-z0-9]+', '_', report_id.lower()).strip('_')}_{index:02d}"


def _new_fields(rev: dict[str, Any], cols: list[Classified]) -> list[NewField]:
    """The genuinely new columns of a list form, as fields of the model (keys ``x_<report>_<nn>``),
    each column given the expression that reads it back. An aggregate form's new column is a count
    per village, not a field of a person or business: it stays blank (docs/admission.md)."""
    if rev["aggregate"]:
        return []
    entity = "business" if rev["entity"] == "business" else "person"
    out = []
    for c in cols:
        if c.kind != "new" or c.field:
            continue
        key = _field_key(rev["report_id"], c.index)
        label = c.label or c.header.split("/")[-1]
        c.field, c.label, c.expr = key, label, extension_expr(key, entity, rev["entity"])
        if label.startswith("是否"):
            c.codelist = "bool"
        synonyms = (c.header.replace("/", ""),) if "/" in c.header else ()
        out.append(NewField(key, label, entity, rev["report_id"], c.note or "", synonyms))
    return out


def burden_ledger(db: Database) -> dict[str, Any]:
    out = ledger(db)
    out["county"]["reports_registered"] = len(registered_ids(db))
    return out

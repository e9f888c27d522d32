"""What a draft would cost the townships, and the county's burden ledger.

A draft covers a population (persons, 低保 households, persons with a disability, the elderly,
businesses…). Per township, its records in the store times the columns a clerk would type is the
cells of one period; a monthly report costs that every month, a quarterly one a third of it, an
annual one a twelfth. With the hub only the genuinely new columns are typed (once, in the 一张表);
without it, every column of the form is. All counts are one SQL statement per draft.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.store.db import Database

ALIVE = "(p.alive OR p.death_date > ctx.ref_date)"
PERSON_FROM = "person p"
HOUSEHOLD_FROM = (
    "membership m JOIN household h ON h.household_code = m.household_code "
    "JOIN person p ON p.person_code = m.person_code "
    "LEFT JOIN person hp ON hp.person_code = h.head_person_code"
)


@dataclass(frozen=True)
class Population:
    label: str
    entity: str  # person | household | business
    from_: str
    where: str
    township: str
    records: str


POPULATIONS: dict[str, Population] = {
    "persons": Population("全部在册人口", "person", PERSON_FROM, ALIVE, "p.township_code", "p.person_code"),
    "elderly60": Population(
        "60周岁及以上老年人",
        "person",
        PERSON_FROM,
        f"{ALIVE} AND age_on(p.birth_date, ctx.ref_date) >= 60",
        "p.township_code",
        "p.person_code",
    ),
    "elderly65": Population(
        "65周岁及以上老年人",
        "person",
        PERSON_FROM,
        f"{ALIVE} AND age_on(p.birth_date, ctx.ref_date) >= 65",
        "p.township_code",
        "p.person_code",
    ),
    "elderly80": Population(
        "80周岁及以上高龄老人",
        "person",
        PERSON_FROM,
        f"{ALIVE} AND age_on(p.birth_date, ctx.ref_date) >= 80",
        "p.township_code",
        "p.person_code",
    ),
    "disabled": Population(
        "持证残疾人",
        "person",
        "person p JOIN disability d ON d.person_code = p.person_code",
        f"{ALIVE} AND d.category IS NOT NULL",
        "p.township_code",
        "p.person_code",
    ),
    "dibao_persons": Population(
        "低保家庭成员",
        "person",
        "person p JOIN dibao_member dm ON dm.person_code = p.person_code",
        ALIVE,
        "p.township_code",
        "p.person_code",
    ),
    "dibao": Population(
        "低保家庭（按成员逐行）",
        "household",
        HOUSEHOLD_FROM,
        f"h.kind = '低保家庭' AND h.active AND {ALIVE}",
        "h.township_code",
        "m.person_code",
    ),
    "households": Population(
        "全部家庭（按成员逐行）", "household", HOUSEHOLD_FROM, ALIVE, "h.township_code", "m.person_code"
    ),
    "businesses": Population(
        "市场主体", "business", "business b", "TRUE", "b.township_code", "b.business_code"
    ),
    "individual_businesses": Population(
        "个体工商户", "business", "business b", "b.uscc_type = '92'", "b.township_code", "b.business_code"
    ),
}
#: a report of this period is typed this many times a month
PER_MONTH = {"monthly": 1.0, "quarterly": 1 / 3, "annual": 1 / 12, "on_demand": 1.0}


def infer_population(title: str, entity: str, fields: set[str], columns_text: str) -> str:
    text = title + " " + columns_text
    if entity == "business":
        return "individual_businesses" if "个体" in text else "businesses"
    if entity == "household":
        return (
            "dibao"
            if ("低保" in text or fields & {"dibao_amount", "covered_count", "dibao_category"})
            else "households"
        )
    if re.search(r"残疾|残联|两项补贴", title) or fields & {
        "disability_category",
        "disability_level",
        "disability_cert",
    }:
        return "disabled"
    if "低保" in title or fields & {"dibao_amount", "dibao_category", "dibao_start"}:
        return "dibao_persons"
    age = re.search(r"(60|65|80)\s*(周)?岁", title)
    if age:
        return f"elderly{age.group(1)}"
    if "高龄" in title:
        return "elderly80"
    if "老年" in title or "老人" in title:
        return "elderly60"
    return "persons"


def with_joins(pop: Population, exprs: list[str]) -> str:
    """The population's FROM plus the LEFT JOINs the columns' aliases need (a person's 低保 household
    through dibao_member)."""
    text = " ".join(exprs)
    out = pop.from_

    def has(alias: str) -> bool:
        return re.search(rf"\b{alias}\.", text) is not None

    def joined(alias: str) -> bool:
        return re.search(rf"\b[a-z_]+ {alias}\b(?! *\.)", out) is not None

    if has("d") and not joined("d"):
        out += " LEFT JOIN disability d ON d.person_code = p.person_code"
    household = has("h") or has("m") or has("hp")
    if (has("dm") or (household and not joined("h"))) and not joined("dm"):
        out += " LEFT JOIN dibao_member dm ON dm.person_code = p.person_code"
    if household and not joined("h"):
        out += " LEFT JOIN household h ON h.household_code = dm.household_code"
        if has("m"):
            out += " LEFT JOIN membership m ON m.household_code = h.household_code AND m.person_code = p.person_code"
        if has("hp"):
            out += " LEFT JOIN person hp ON hp.person_code = h.head_person_code"
    if has("px") and not joined("px"):  # the fields report admission added (hub.extension)
        out += " LEFT JOIN person_extra px ON px.person_code = p.person_code"
    if has("bx") and not joined("bx"):
        out += " LEFT JOIN business_extra bx ON bx.business_code = b.business_code"
    return out


def _sql(pop: Population, ref: dt.date, what: str) -> str:
    lit = f"DATE '{ref.isoformat()}'"
    where = pop.where.replace("ctx.ref_date", lit)
    # the head's own row is for the report's columns, not for counting its rows
    from_ = pop.from_.replace(" LEFT JOIN person hp ON hp.person_code = h.head_person_code", "")
    return (
        f"SELECT {pop.township} AS township_code, {what} AS n FROM {from_} "
        f"WHERE {where} GROUP BY 1 HAVING {pop.township} IS NOT NULL ORDER BY 1"
    )


def draft_burden(
    db: Database,
    population: str,
    period: str,
    aggregate: bool,
    typed_with_hub: int,
    typed_without_hub: int,
    ref: dt.date | None = None,
) -> dict[str, Any]:
    """Per township: records (or villages, for an aggregate form), cells per period and per month
    with the hub (new columns only) and without (every column a clerk fills); and the county's sums."""
    pop = POPULATIONS[population]
    ref = ref or dt.date.today()
    village = {"business": "b.village_code", "household": "h.village_code"}.get(pop.entity, "p.village_code")
    # a population's rows are its records (one per person, member row or business): count(*)
    what = f"count(DISTINCT {village})" if aggregate else "count(*)"
    names = dict(db.rows("SELECT code, name FROM division"))
    factor = PER_MONTH.get(period, 1.0)
    rows = []
    for code, n in db.rows(_sql(pop, ref, what)):
        with_hub = int(n) * typed_with_hub
        without = int(n) * typed_without_hub
        rows.append(
            {
                "township_code": str(code),
                "township": names.get(str(code), str(code)),
                "records": int(n),
                "cells_with_hub": with_hub,
                "cells_without_hub": without,
                "per_month_with_hub": round(with_hub * factor, 1),
                "per_month_without_hub": round(without * factor, 1),
            }
        )
    total = {
        k: round(sum(r[k] for r in rows), 1)
        for k in (
            "records",
            "cells_with_hub",
            "cells_without_hub",
            "per_month_with_hub",
            "per_month_without_hub",
        )
    }
    return {
        "population": population,
        "population_label": pop.label,
        "unit": "个村（社区）"
        if aggregate
        else {"business": "户市场主体", "household": "行（家庭成员）"}.get(pop.entity, "人"),
        "aggregate": aggregate,
        "period": period,
        "per_month_factor": round(factor, 4),
        "columns_with_hub": typed_with_hub,
        "columns_without_hub": typed_without_hub,
        "townships": rows,
        "county": total,
    }


# -- the ledger --------------------------------------------------------------------------------


def record_deliveries(db: Database, results: list[Any], ref: dt.date) -> None:
    """Keep what an export delivered (the ledger's delivered side). Silently nothing on a read-only store."""
    rows = [
        (dt.datetime.now(), ref, r.report, r.township, r.records, r.cells, r.model_cells)
        for r in results
        if r.written
    ]
    if not rows:
        return
    try:
        with db.transaction():
            for row in rows:
                db.execute("INSERT INTO hub_deliveries VALUES (?, ?, ?, ?, ?, ?, ?)", list(row))
    except Exception as exc:  # a read-only store: the ledger misses this export, the export stands
        if not db.is_engine_error(exc):
            raise


# Cells typed in month M (submissions) beside cells delivered in month M (the latest file of each
# report, township and report date, by when it was written); a county-wide file (GA-SYRK) is a row of
# its own, township '' (全县文件).
_LEDGER_SQL = """
WITH typed AS (
    SELECT township_code, strftime(submitted_at, '%Y-%m') AS month, sum(cells_typed) AS typed,
           count(*) AS files
    FROM hub_submissions WHERE township_code IS NOT NULL GROUP BY ALL
), latest AS (
    SELECT report_id, coalesce(township_code, '') AS township_code, report_date,
           max(delivered_at) AS delivered_at,
           arg_max(cells, delivered_at) AS cells, arg_max(model_cells, delivered_at) AS model_cells
    FROM hub_deliveries GROUP BY ALL
), delivered AS (
    SELECT township_code, strftime(delivered_at, '%Y-%m') AS month, sum(cells) AS delivered,
           sum(model_cells) AS from_model, count(DISTINCT report_id) FILTER (WHERE model_cells > 0) AS served,
           string_agg(DISTINCT report_id, ',' ORDER BY report_id) AS reports
    FROM latest GROUP BY ALL
)
SELECT coalesce(t.township_code, d.township_code) AS township_code,
       coalesce(t.month, d.month) AS month,
       coalesce(t.typed, 0) AS typed, coalesce(t.files, 0) AS files,
       coalesce(d.delivered, 0) AS delivered, coalesce(d.from_model, 0) AS from_model,
       coalesce(d.served, 0) AS served, d.reports
FROM typed t FULL JOIN delivered d ON d.township_code = t.township_code AND d.month = t.month
ORDER BY coalesce(t.township_code, d.township_code) = '', 1, 2
"""


def ledger(db: Database) -> dict[str, Any]:
    """Per township and month: cells typed once, cells delivered, 字段复用率, reports served from the
    model, and the cells per month admission prevented (drafts' columns that were derivable or
    already collected, from the decision's month on)."""
    names = dict(db.rows("SELECT code, name FROM division"))
    decided = db.dicts(
        "SELECT d.draft_id, d.report_id, d.title, d.department, d.status, d.review_json, "
        "max(x.decided_at) AS decided_at FROM hub_drafts d JOIN hub_draft_decisions x USING (draft_id) "
        "GROUP BY ALL ORDER BY d.draft_id"
    )
    saving: list[tuple[str, str, float]] = []  # (month decided, township, cells per month prevented)
    prevented_drafts = []
    for d in decided:
        review = json.loads(d["review_json"] or "{}")
        burden = review.get("burden") or {}
        month = f"{d['decided_at']:%Y-%m}"
        for t in burden.get("townships", []):
            saving.append((month, t["township_code"], t["per_month_without_hub"] - t["per_month_with_hub"]))
        counts = review.get("counts", {})
        prevented_drafts.append(
            {
                "draft_id": d["draft_id"],
                "report_id": d["report_id"],
                "title": d["title"],
                "department": d["department"],
                "status": d["status"],
                "decided": month,
                "columns": sum(counts.values()),
                "columns_prevented": counts.get("model", 0)
                + counts.get("caliber", 0)
                + counts.get("shared", 0),
                "columns_new": counts.get("new", 0),
                "per_month_prevented": round(
                    (burden.get("county") or {}).get("per_month_without_hub", 0)
                    - (burden.get("county") or {}).get("per_month_with_hub", 0),
                    1,
                ),
            }
        )
    rows = []
    for r in db.dicts(_LEDGER_SQL):
        prevented = sum(s for m, t, s in saving if t == r["township_code"] and m <= r["month"])
        delivered = int(r["delivered"])
        rows.append(
            {
                "township_code": r["township_code"],
                "township": names.get(r["township_code"], r["township_code"]) or "全县文件",
                "month": r["month"],
                "files": int(r["files"]),
                "cells_typed": int(r["typed"]),
                "cells_delivered": delivered,
                "cells_from_model": int(r["from_model"]),
                "reuse_rate": round(int(r["from_model"]) / delivered, 4) if delivered else 0.0,
                "reports_served": int(r["served"]),
                "reports": (r["reports"] or "").split(",") if r["reports"] else [],
                "prevented_per_month": round(prevented, 1),
            }
        )
    typed = sum(r["cells_typed"] for r in rows)
    delivered = sum(r["cells_delivered"] for r in rows)
    model = sum(r["cells_from_model"] for r in rows)
    return {
        "rows": rows,
        "county": {
            "cells_typed": typed,
            "cells_delivered": delivered,
            "cells_from_model": model,
            "reuse_rate": round(model / delivered, 4) if delivered else 0.0,
            "reports_registered": None,
            "drafts_decided": len(prevented_drafts),
            "columns_prevented": sum(d["columns_prevented"] for d in prevented_drafts),
            "per_month_prevented": round(sum(d["per_month_prevented"] for d in prevented_drafts), 1),
        },
        "drafts": prevented_drafts,
    }

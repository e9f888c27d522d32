"""What admission writes: the mapping spec of an admitted draft, its entitlement entry, the check
of both by the same checker as ``hub mappings check``."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from hub import yamlio
from hub.admission.burden import POPULATIONS, with_joins
from hub.admission.classify import Classified
from hub.errors import HubError
from hub.paths import mappings_dir, schemas_dir

REFERENCE = {
    "monthly": "month_end",
    "quarterly": "quarter_end",
    "annual": "year_end",
    "on_demand": "report_date",
}
VIEW_OF = {
    "p": "person",
    "hp": "person",
    "h": "household",
    "m": "membership",
    "d": "disability",
    "dm": "dibao_member",
    "b": "business",
    "px": "person_extra",
    "bx": "business_extra",
}
_REF = re.compile(r"\b(p|hp|h|m|d|dm|b|px|bx)\.([a-z0-9_]+)\b")
_GROUP_KEYS = ("village_name", "village_code", "township_name", "township_code")


def _period_words(period: str) -> str:
    return {"monthly": "{Y}年{M}月", "quarterly": "{Y}年第{Q}季度", "annual": "{Y}年"}.get(period, "")


def build_spec(
    report_id: str,
    department: str,
    title: str,
    period: str,
    population: str,
    aggregate: bool,
    cols: list[Classified],
) -> str:
    pop = POPULATIONS[population]
    columns: list[dict[str, Any]] = []
    exprs: list[str] = []
    group_keys = {
        "business": ["b.village_code", "b.village_name"],
        "household": ["h.village_code", "h.village_name"],
    }.get(pop.entity, ["p.village_code", "p.village_name"])
    for c in cols:
        col: dict[str, Any] = {"key": f"c{c.index:02d}", "header": c.header.split("/")}
        if c.serial:
            col.update(serial=True, format="integer")
        elif c.expr:  # from the model, with its 口径, or an admitted field (px./bx., hub.extension)
            expr = c.expr
            grouped_key = any(expr.endswith(f".{k}") for k in _GROUP_KEYS)
            if aggregate and c.question not in ("count", "amount") and "ctx." not in expr and not grouped_key:
                expr = f"min({expr})"
            col["expr"] = expr
            exprs.append(expr)
            if c.codelist:
                col["codelist"] = c.codelist
            if c.format != "text":
                col["format"] = c.format
        else:  # 备注, and the new columns of an aggregate form (a count per village, not a field)
            col["expr"] = "CAST(NULL AS VARCHAR)"
        columns.append(col)
    from_ = with_joins(pop, exprs + [pop.where])
    sheet: dict[str, Any] = {
        "name": "表1",
        "title": "{township}" + _period_words(period) + title,
        "meta": ["填报单位：{township}人民政府", "填报日期：{Y}年{M}月{D}日"],
        "population": {"from": from_, "where": pop.where, "township": pop.township},
        "records": pop.records,
        "columns": columns,
    }
    label_col = next(
        (c["key"] for c in columns if c.get("serial") or c.get("format", "text") == "text"), columns[0]["key"]
    )
    if aggregate:
        sheet["group_by"] = group_keys  # rows in village order (a grouped sheet is ordered by its keys)
        sheet["total"] = {"position": "bottom", "label_column": label_col, "label": "合计"}
    else:
        sheet["order_by"] = [group_keys[0], pop.records]
        sheet["total"] = {"position": "bottom", "label_column": label_col, "label": "合计（{records}）"}
    spec = {
        "id": report_id,
        "department": department,
        "title": title,
        "period": period,
        "reference_date": REFERENCE.get(period, "report_date"),
        "sheets": [sheet],
    }
    head = f"# {department} {title}：经报表准入生成（docs/admission.md）。新增栏目取自乡镇在一张表中的填报（px./bx.）。\n"
    return head + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=120)


def entitlement_block(report_id: str, department: str, spec_text: str) -> str:
    """The report's entry for schemas/entitlements.yaml: view columns its columns output are
    ``full``, those only its population reads are ``condition``."""
    spec = yamlio.safe_load(spec_text)
    sheet = spec["sheets"][0]
    out: dict[str, dict[str, str]] = {}
    shown = " ".join(c.get("expr", "") for c in sheet["columns"])
    cond = " ".join(
        [
            sheet["population"]["from"],
            sheet["population"].get("where") or "",
            sheet["population"]["township"],
            sheet["records"],
            *sheet.get("group_by", []),
            *sheet.get("order_by", []),
        ]
    )
    for text, level in ((shown, "full"), (cond, "condition")):
        for alias, col in _REF.findall(text):
            view = VIEW_OF[alias]
            out.setdefault(view, {})
            if out[view].get(col) != "full":
                out[view][col] = level
    lines = [f"  {report_id}:", f"    department: {department}", "    fields:"]
    for view, cols in out.items():
        inner = ", ".join(f"{c}: {lvl}" for c, lvl in sorted(cols.items()))
        lines.append(f"      {view}: {{{inner}}}")
    return "\n".join(lines) + "\n"


def check_and_write(report_id: str, department: str, spec_text: str) -> Path:
    """Add the entitlement, check the spec as `hub mappings check` does, write it where the export
    stage reads it. Nothing is left changed when the check fails."""
    from hub.export.catalog import check_mappings, load_entitlements

    target = mappings_dir() / f"{report_id}.yaml"
    if target.exists():
        raise HubError(f"报表 {report_id} 已有映射规格，不能重复准入。", code="admission-exists")
    ent_path = schemas_dir() / "entitlements.yaml"
    before = ent_path.read_text(encoding="utf-8")
    ents = yamlio.safe_load(before)
    if report_id not in (ents.get("reports") or {}):
        block = entitlement_block(report_id, department, spec_text)
        ent_path.write_text(
            before.rstrip("\n") + f"\n  # {report_id}: 经报表准入加入\n" + block, encoding="utf-8"
        )
    load_entitlements.cache_clear()
    try:
        with tempfile.TemporaryDirectory(prefix="hub-admit-") as tmp:
            (Path(tmp) / target.name).write_text(spec_text, encoding="utf-8")
            problems = [str(p).replace(tmp, "mappings") for p in check_mappings(Path(tmp))]
        if problems:
            raise HubError(
                f"生成的映射规格有 {len(problems)} 个问题，未准入。",
                code="admission-spec",
                details={"problems": problems},
                hint="；".join(problems[:3]),
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(spec_text, encoding="utf-8")
    except BaseException:
        ent_path.write_text(before, encoding="utf-8")
        load_entitlements.cache_clear()
        raise
    return target

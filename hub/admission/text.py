"""The admission review, the registry and the burden ledger as the CLI prints them."""

from __future__ import annotations

from typing import Any


def review_text(r: dict[str, Any]) -> str:
    lines = [
        f"草案 {r['draft_id']}（{r['report_id']}）{r['department']}《{r['title']}》{r['period_label']}，"
        f"来自 {r['source']}，{r['submitted_by']} 提交于 {r['submitted_at']}，状态：{r['status_label']}",
        r["summary"],
        "",
        "逐栏审查：",
    ]
    for c in r["columns"]:
        what = c["kind_label"]
        if c["kind"] in ("model", "caliber") and c["expr"]:
            what += f"：{c['expr'].strip()}" + (f"（代码表 {c['codelist']}）" if c["codelist"] else "")
        if c["kind"] == "caliber":
            what += f"；{c['question_label']}：{c['ask']}"
        if c["kind"] == "shared":
            what += f"：由 {c['shared_with']} 采集"
        if c["kind"] == "form" and c["serial"]:
            what += "（序号）"
        also = f"  〔已由 {'、'.join(c['also_in'])} 报送〕" if c["also_in"] else ""
        lines.append(f"  {c['index']:>2}. {c['header']}　→ {what}{also}")
    if r["overlaps"]:
        lines.append("")
        lines.append(
            "与已登记报表重合："
            + "；".join(f"{o['report_id']} {len(o['columns'])} 栏（{o['share']:.0%}）" for o in r["overlaps"])
        )
    b = r["burden"]
    lines += [
        "",
        f"填报负担（对象：{b['population_label']}，单位：{b['unit']}；{r['period_label']}，每月折算系数 {b['per_month_factor']:g}）：",
        f"  {'乡镇':<10}{'对象数':>8}{'有一表通 格/月':>16}{'无一表通 格/月':>16}",
    ]
    for t in b["townships"]:
        lines.append(
            f"  {t['township']:<10}{t['records']:>8}{t['per_month_with_hub']:>16g}{t['per_month_without_hub']:>16g}"
        )
    c = b["county"]
    lines.append(
        f"  {'全县':<10}{c['records']:>8g}{c['per_month_with_hub']:>16g}{c['per_month_without_hub']:>16g}"
    )
    for d in r["decisions"]:
        lines.append(f"决定：{d['label']}，{d['decided_by']} 于 {d['decided_at']}，理由：{d['reason']}")
    return "\n".join(lines)


def ledger_text(data: dict[str, Any]) -> str:
    lines = [
        f"{'乡镇':<10}{'月份':<9}{'一次录入':>9}{'交付':>9}{'取自台账':>9}{'复用率':>8}{'台账直供报表':>8}{'准入减少(格/月)':>14}"
    ]
    for r in data["rows"]:
        lines.append(
            f"{r['township']:<10}{r['month']:<9}{r['cells_typed']:>9}{r['cells_delivered']:>9}"
            f"{r['cells_from_model']:>9}{r['reuse_rate']:>8.1%}{r['reports_served']:>8}{r['prevented_per_month']:>14g}"
        )
    c = data["county"]
    lines.append(
        f"全县：一次录入 {c['cells_typed']} 格，交付各部门 {c['cells_delivered']} 格，其中 {c['cells_from_model']} 格"
        f"直接取自统一台账，字段复用率 {c['reuse_rate']:.1%}；报表清单 {c['reports_registered']} 张；"
        f"已审草案 {c['drafts_decided']} 份，准入审查挡下 {c['columns_prevented']} 栏重复或可生成的填报，"
        f"每月少填 {c['per_month_prevented']:g} 格。"
    )
    for d in data["drafts"]:
        lines.append(
            f"  草案 {d['draft_id']} {d['department']}《{d['title']}》（{d['status']}，{d['decided']}）："
            f"{d['columns']} 栏中 {d['columns_prevented']} 栏无需乡镇填报，新增 {d['columns_new']} 栏，"
            f"每月少填 {d['per_month_prevented']:g} 格"
        )
    return "\n".join(lines)


def registry_text(rows: list[dict[str, Any]]) -> str:
    out = []
    for r in rows:
        when = f"{r['admitted_at']:%Y-%m-%d}" if r.get("admitted_at") else "建库"
        out.append(
            f"{r['report_id']:<14}{r['department']:<6}《{r['title']}》{r['period_label']}　依据：{r['legal_basis'] or '（未填）'}"
            f"　登记：{r['admitted_by']} {when}"
        )
    return "\n".join(out)

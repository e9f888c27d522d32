"""What people read after validation: the clerk's text summary of an ingest, and the static HTML
index and Data Docs of the steward's great-expectations report (:func:`write_gx_report`, called by
:func:`hub.validate.gx_suite.write_data_docs`).

No heavy imports: great-expectations objects arrive through the run; nothing is imported at module top.
"""

from __future__ import annotations

import hashlib
import html
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MAX_LISTED = 20  # problems listed per file; the annotated workbook has them all
SEVERITY_LABEL = {"error": "错误", "warning": "提醒"}


def _kind_label(kind: str | None) -> str:
    if not kind:
        return "未识别"
    from hub.model import load_schema

    ledgers = load_schema().ledgers
    return "、".join(ledgers[k].label if k in ledgers else k for k in kind.split(","))


def _where(problem: Mapping[str, Any]) -> str:
    parts = [str(problem.get("sheet") or "")]
    if problem.get("row") is not None:
        parts.append(f"第{problem['row']}行")
    if problem.get("column"):
        parts.append(f"“{problem['column']}”列")
    return " ".join(p for p in parts if p)


def _file_block(report: Mapping[str, Any]) -> list[str]:
    errors: Sequence[Mapping[str, Any]] = report.get("errors") or []
    warnings: Sequence[Mapping[str, Any]] = report.get("warnings") or []
    rows, accepted, rejected = report.get("rows", 0), report.get("accepted", 0), report.get("rejected", 0)
    held = report.get("held", 0)
    township = report.get("township") or "未识别"
    status = report.get("status")
    lines = [f"【{report.get('file', '')}】乡镇（街道）：{township}；台账：{_kind_label(report.get('kind'))}"]
    if status == "refused":
        return [*lines, f"  拒收，未导入任何数据：{report.get('message') or '原因不明'}"]
    if status == "unchanged":
        return [*lines, f"  {report.get('message') or '内容未变，未作改动。'}"]
    if status == "held":
        return lines + _held_block(report)
    lines.append(
        f"  共 {rows} 行数据：接收 {accepted} 行，退回 {rejected} 行"
        + (f"，待确认 {held} 行" if held else "")
        + f"；错误 {len(errors)} 处，提醒 {len(warnings)} 处。"
    )
    for c in report.get("held_columns") or []:
        lines.append(
            f"  待确认列：{c['sheet']} {c['col']}列“{c['header']}”像“{c['guess_label']}”（把握 {c['confidence']:.0%}），"
            f"示例：{'、'.join(c['samples']) or '（无）'}。此列暂未使用（数据已保留），请在上传页确认，"
            f"或用 hub columns 生成列映射后 --columns 重新导入。"
        )
    problems = [("error", p) for p in errors] + [("warning", p) for p in warnings]
    if not problems:
        lines.append("  未发现问题。")
    else:
        counts = Counter((sev, str(p.get("code"))) for sev, p in problems)
        lines.append("  问题分类：")
        lines.extend(f"    [{SEVERITY_LABEL[sev]}] {code}：{n} 处" for (sev, code), n in counts.items())
        shown = problems[:MAX_LISTED]
        lines.append(f"  问题明细（列出前 {len(shown)} 处，共 {len(problems)} 处）：")
        for sev, code in counts:  # grouped by code, errors first, in order of first appearance
            group = [p for s, p in shown if s == sev and str(p.get("code")) == code]
            if not group:
                continue
            lines.append(f"    {code}（{SEVERITY_LABEL[sev]}，共 {counts[(sev, code)]} 处）")
            lines.extend(f"      {_where(p)}：{p.get('message', '')}" for p in group)
        if len(problems) > len(shown):
            lines.append(f"  另有 {len(problems) - len(shown)} 处问题未列出，请打开标注文件查看全部。")
    annotated = report.get("annotated")
    lines.append(
        f"  已生成标注文件（问题单元格已标色并附批注）：{annotated}" if annotated else "  未生成标注文件。"
    )
    return lines


def _held_block(report: Mapping[str, Any]) -> list[str]:
    """A file held for its columns: which sheet, which column, the guess and why, and what to do."""
    name = Path(str(report.get("file", ""))).name
    lines = [
        f"  共 {report.get('rows', 0)} 行数据：待确认 {report.get('held', 0)} 行（列未确认，整份文件暂未导入，数据未丢失）。"
    ]
    for sheet in report.get("held_sheets") or []:
        lines.append(f"  工作表“{sheet['sheet']}”（{sheet['rows']} 行）：{sheet['reason']}")
        for c in sheet["columns"]:
            if c["sure"] and c["field"]:
                continue
            if c["source"] == "ignored" or (c["field"] is None and not c["alternatives"]):
                continue
            guess = (
                f"猜测为“{c['label']}”（把握 {c['confidence']:.0%}）" if c["field"] else "未能对应任何字段"
            )
            samples = "、".join(c["samples"]) if c["samples"] else "（无数据）"
            lines.append(f"    {c['col']}列“{c['header'] or '（无表头）'}”：{guess}；示例：{samples}")
    lines.append(
        f"  请在上传页确认各列；或运行 hub columns {name} --out 列映射.yaml，改好后运行 "
        f"hub ingest {name} --columns 列映射.yaml。确认后同样表头的台账不再询问。"
    )
    return lines


def render_text_summary(file_reports: list[dict[str, Any]]) -> str:
    """The clerk's readable summary of one ingest: totals first, then each file's counts, up to
    :data:`MAX_LISTED` problems grouped by finding code, and where the annotated workbook is."""
    total_rows = sum(int(r.get("rows", 0)) for r in file_reports)
    accepted = sum(int(r.get("accepted", 0)) for r in file_reports)
    rejected = sum(int(r.get("rejected", 0)) for r in file_reports)
    held = sum(int(r.get("held", 0)) for r in file_reports)
    refused = sum(1 for r in file_reports if r.get("status") == "refused")
    errors = sum(len(r.get("errors") or []) for r in file_reports)
    warnings = sum(len(r.get("warnings") or []) for r in file_reports)
    lines = [
        f"本次共上传 {len(file_reports)} 个文件"
        + (f"（拒收 {refused} 个）" if refused else "")
        + f"，{total_rows} 行数据：接收 {accepted} 行，退回 {rejected} 行"
        + (f"，待确认 {held} 行" if held else "")
        + f"；错误 {errors} 处，提醒 {warnings} 处。",
        "错误会使该行退回，请改正后重新上传；提醒不影响接收，请核对。",
    ]
    for report in file_reports:
        lines.append("")
        lines.extend(_file_block(report))
    return "\n".join(lines) + "\n"


_CSS = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #999;padding:4px 8px;vertical-align:top}"
    ".fail{background:#FFC7CE}.warn{background:#FFEB9C}.ok{background:#C6EFCE}"
)


def render_validation_html(
    kind: str,
    success: bool,
    statistics: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    links: Sequence[str],
) -> str:
    """A self-contained (offline) HTML page: one line per expectation, linking GX's own pages."""
    esc = html.escape
    body = []
    for r in rows:
        state = "ok" if r["success"] else ("fail" if r.get("severity") == "error" else "warn")
        failing = r.get("rows") or []
        shown = "、".join(str(n) for n in failing[:50]) + ("……" if len(failing) > 50 else "")
        body.append(
            f"<tr class='{state}'><td>{esc(str(r.get('label') or ''))}（{esc(str(r.get('field')))}）</td>"
            f"<td>{esc(str(r.get('rule')))}</td><td>{esc(SEVERITY_LABEL.get(str(r.get('severity')), ''))}</td>"
            f"<td>{esc(str(r.get('expectation')))}</td><td>{r.get('element_count') or 0}</td>"
            f"<td>{r.get('unexpected_count') or 0}</td><td>{esc(shown)}</td></tr>"
        )
    gx_links = "".join(f"<li><a href='{esc(link)}'>{esc(link)}</a></li>" for link in links)
    stats = "，".join(f"{esc(str(k))}: {esc(str(v))}" for k, v in statistics.items())
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>数据校验报告 - {esc(_kind_label(kind))}</title><style>{_CSS}</style></head><body>"
        f"<h1>数据校验报告：{esc(_kind_label(kind))}</h1>"
        f"<p>总体结果：<b>{'全部通过' if success else '存在未通过的规则'}</b>（{stats}）</p>"
        "<table><tr><th>字段</th><th>规则</th><th>严重程度</th><th>great-expectations 期望</th>"
        "<th>检查值数</th><th>不通过数</th><th>不通过的行号（前50个）</th></tr>"
        + "".join(body)
        + "</table><h2>great-expectations 数据文档</h2><ul>"
        + gx_links
        + "</ul><p>以上页面由 great-expectations 生成，离线时样式可能缺失，内容完整。</p></body></html>"
    )


def write_gx_report(run: Any, out_dir: Path) -> Path:
    """Build GX's file-system Data Docs for ``run`` under ``out_dir/gx`` (offline) and write
    ``out_dir/index.html``, the page the steward opens.

    GX's own index page draws its table with jQuery/bootstrap-table loaded from CDNs, so offline it
    shows nothing; its validation pages are server-rendered and readable offline. The hub's index is
    therefore a static page (:func:`hub.validate.report.render_validation_html`) summarising every
    expectation and linking to GX's validation and suite pages.
    """
    from urllib.parse import unquote, urlparse

    from hub.errors import ValidationEngineError

    gx_dir = (out_dir / "gx").resolve()
    gx_dir.mkdir(parents=True, exist_ok=True)
    site = "hub_" + hashlib.sha1(str(gx_dir).encode()).hexdigest()[:12]  # one site per directory
    try:
        if site not in (run.context.config.data_docs_sites or {}):
            run.context.add_data_docs_site(
                site,
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(gx_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        run.context.build_data_docs(site_names=[site])
        pages = [
            entry["site_url"]
            for rid in run.result_ids
            for entry in run.context.get_docs_sites_urls(resource_identifier=rid, site_name=site)
            if entry.get("site_url")
        ]
    except Exception as exc:
        raise ValidationEngineError(
            f"无法生成 great-expectations 数据文档：{exc}", file=str(out_dir)
        ) from exc
    links = [
        Path(unquote(urlparse(p).path)).resolve().relative_to(out_dir.resolve()).as_posix() for p in pages
    ]
    links += sorted(
        p.relative_to(out_dir).as_posix() for p in (out_dir / "gx" / "expectations").glob("*.html")
    )
    rows = []
    for res in run.results.results:
        meta = res.expectation_config.meta or {}
        result = res.result or {}
        rows.append(
            {
                "field": meta.get("field"),
                "label": meta.get("label"),
                "rule": meta.get("hub_rule"),
                "severity": meta.get("severity"),
                "expectation": res.expectation_config.type,
                "success": bool(res.success),
                "element_count": result.get("element_count"),
                "unexpected_count": result.get("unexpected_count", 0),
                "rows": sorted(int(h["_row"]) for h in result.get("unexpected_index_list") or []),
            }
        )
    index = out_dir / "index.html"
    index.write_text(
        render_validation_html(run.kind, run.success, run.statistics, rows, links), encoding="utf-8"
    )
    return index

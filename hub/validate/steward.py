"""The steward's validation report for a stored submission: the great-expectations suite generated
from the schema, run over the same normalised batch as the SQL checks, written as HTML, with the
SQL/GX parity checked on the live data (a disagreement is a failure of the hub, never bad data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from hub.errors import HubError, ValidationEngineError
from hub.ingest.types import Column, StagedSheet, field_sources
from hub.model import Schema
from hub.sqltext import sql_literal
from hub.store.db import Database


def staged_from_store(db: Database, submission_id: int) -> list[StagedSheet]:
    """Rebuild the staged sheets of a submission from its raw rows and header provenance."""
    sub = db.dicts("SELECT * FROM hub_submissions WHERE submission_id = ?", [submission_id])
    if not sub:
        raise HubError(
            f"没有提交号为 {submission_id} 的报送。请用 hub status 查看已有报送。", code="submission-unknown"
        )
    sheets = []
    kinds = dict(
        db.rows(
            "SELECT sheet, any_value(kind) FROM hub_rows WHERE submission_id = ? GROUP BY sheet",
            [submission_id],
        )
    )
    for (sheet,) in db.rows(
        "SELECT DISTINCT sheet FROM hub_columns WHERE submission_id = ? ORDER BY sheet", [submission_id]
    ):
        cols = [
            Column(col_index=c, header=h, field=f)
            for c, h, f in db.rows(
                "SELECT col_index, header, field FROM hub_columns WHERE submission_id = ? AND sheet = ? ORDER BY col_index",
                [submission_id, sheet],
            )
        ]
        sources, constants = field_sources(cols)  # as at ingest: twins, a household sheet's head
        exprs = {f: [f"cells->>{sql_literal(c.header)}" for c in cs] for f, cs in sources.items()}
        select = ", ".join(
            [
                f'{parts[0] if len(parts) == 1 else "COALESCE(" + ", ".join(parts) + ")"} AS "{f}"'
                for f, parts in exprs.items()
            ]
            + [f'{sql_literal(v)} AS "{f}"' for f, v in constants.items()]
        )
        data = db.arrow(
            f"SELECT sheet AS _sheet, row_no AS _row{', ' + select if select else ''} FROM hub_raw_rows "
            "WHERE submission_id = ? AND sheet = ? ORDER BY row_no",
            [submission_id, sheet],
        )
        sheets.append(
            StagedSheet(
                sheet=sheet,
                kind=kinds.get(sheet, "population"),
                township_code=sub[0]["township_code"],
                columns=cols,
                data=data,
            )
        )
    return sheets


def validation_report(
    db: Database, schema: Schema, submission_id: int, out_dir: Path, today: date
) -> dict[str, Any]:
    """Run the GX suite over every sheet of a submission, check parity with the SQL path, and write the
    HTML report. Returns {index, sheets: [{sheet, kind, success, statistics, failing_rows}]}."""
    from hub.validate import normalised_batch, rule_failures
    from hub.validate.gx_suite import run_suite, write_data_docs

    schema = schema.core()  # the suite covers the model's own fields (admitted ones: hub.extension)

    out: dict[str, Any] = {"submission_id": submission_id, "sheets": []}
    index: Path | None = None
    for i, sheet in enumerate(staged_from_store(db, submission_id)):
        batch = normalised_batch(db, sheet, schema, today)
        run = run_suite(batch, schema, sheet.kind, today=today)
        sql = rule_failures(db, sheet, schema, today)
        differ = sorted(r for r, rows in run.failures.items() if r in sql and sql[r] != rows)
        if differ:
            raise ValidationEngineError(
                f"校验引擎不一致：great-expectations 与 SQL 对规则 {', '.join(differ)} 的结果不同。这是系统问题，不是数据问题。",
                sheet=sheet.sheet,
                details={"rules": differ},
            )
        page = write_data_docs(run, out_dir / f"sheet{i + 1}")
        index = index or page
        out["sheets"].append(
            {
                "sheet": sheet.sheet,
                "kind": sheet.kind,
                "success": run.success,
                "statistics": run.statistics,
                "failing_rows": {r: len(rows) for r, rows in sorted(run.failures.items()) if rows},
                "report": str(page),
            }
        )
    out["index"] = str(index) if index else None
    return out


def write_index(db: Database, root: Path) -> Path:
    """``root/index.html``: one line per submission whose report exists under ``root``, linking to it."""
    import html

    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for sub in db.dicts(
        "SELECT submission_id, file_name, township_code, submitted_at FROM hub_submissions ORDER BY 1"
    ):
        folder = root / f"submission-{sub['submission_id']}"
        pages = sorted(folder.glob("sheet*/index.html"))
        if not pages:
            continue
        links = " ".join(
            f'<a href="{p.relative_to(root).as_posix()}">{html.escape(p.parent.name)}</a>' for p in pages
        )
        lines.append(
            f"<tr><td>{sub['submission_id']}</td><td>{html.escape(sub['file_name'])}</td>"
            f"<td>{sub['township_code'] or ''}</td><td>{sub['submitted_at']:%Y-%m-%d %H:%M}</td><td>{links}</td></tr>"
        )
    body = "".join(lines) or '<tr><td colspan="5">还没有校验报告。用 hub report 提交号 生成。</td></tr>'
    index = root / "index.html"
    index.write_text(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>校验报告</title></head><body>'
        "<h1>great-expectations 校验报告</h1><table border=1 cellpadding=4><tr><th>提交号</th><th>文件</th>"
        f"<th>乡镇</th><th>报送时间</th><th>报告</th></tr>{body}</table></body></html>",
        encoding="utf-8",
    )
    return index

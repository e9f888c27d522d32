"""The admission flow through the CLI: submit, review, decide (with who and why), the spec written
and checked, the registry, the export gate, new fields shared by the next draft, the burden figures
against the store, and the burden ledger after an export."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from hub.paths import REPO_ROOT
from tests.admission.conftest import write_draft
from tests.conftest import Cli

COLUMNS = [
    "序号",
    "村（社区）",
    "姓名",
    "性别",
    "身份证号",
    {"label": "年龄", "note": "按季末周岁"},
    "残疾类别",
    "残疾等级",
    {"label": "签约家庭医生", "note": "乡镇卫生院签约医生姓名"},
    {"label": "签约日期", "note": "最近一次签约"},
    "联系电话",
    "备注",
]


def test_decisions_are_kept_with_who_and_why(bare: Path) -> None:
    cli = Cli()
    draft = write_draft(bare / "d.yaml", "残疾人家庭医生签约服务情况表", COLUMNS, period="quarterly")
    review, _ = cli.json("admission", "submit", draft, "--dept", "卫健", "--by", "wj_li")
    draft_id = str(review["draft_id"])
    assert review["report_id"].startswith("WJ-")
    no_reason = cli("admission", "decide", draft_id, "reject", "--reason", " ", "--by", "admin")
    assert no_reason.exit_code == 1 and "理由" in no_reason.output and "Traceback" not in no_reason.output
    bad = cli("admission", "decide", draft_id, "maybe", "--reason", "x", "--by", "admin")
    assert bad.exit_code == 1 and "admit" in bad.output
    out, code = cli.json(
        "admission", "decide", draft_id, "return", "--reason", "签约日期口径不清，请说明", "--by", "admin"
    )
    assert code == 0 and out["status"] == "returned"
    again = cli("admission", "decide", draft_id, "admit", "--reason", "x", "--by", "admin")
    assert again.exit_code == 1 and "已退回" in again.output
    shown, _ = cli.json("admission", "review", draft_id)
    assert [(d["decision"], d["decided_by"], d["reason"]) for d in shown["decisions"]] == [
        ("return", "admin", "签约日期口径不清，请说明")
    ]
    assert not (bare / "mappings" / f"{review['report_id']}.yaml").exists()  # nothing admitted
    missing = cli("admission", "review", "999")
    assert missing.exit_code == 1 and "没有编号为 999" in missing.output
    unreadable = bare / "x.pdf"
    unreadable.write_bytes(b"%PDF-1.4")
    refused = cli("admission", "submit", unreadable, "--dept", "卫健")
    assert refused.exit_code == 1 and "不支持的草案格式" in refused.output


def test_a_spec_not_in_the_registry_is_not_exported(bare: Path) -> None:
    cli = Cli()
    text = (REPO_ROOT / "mappings" / "WJ-ELDERLY65.yaml").read_text(encoding="utf-8")
    (bare / "mappings" / "WJ-COPY.yaml").write_text(
        text.replace("id: WJ-ELDERLY65", "id: WJ-COPY"), encoding="utf-8"
    )
    ents = bare / "schemas" / "entitlements.yaml"
    data = yaml.safe_load(ents.read_text(encoding="utf-8"))
    block = yaml.safe_dump(
        {"WJ-COPY": data["reports"]["WJ-ELDERLY65"]}, allow_unicode=True, default_flow_style=None
    )
    ents.write_text(
        ents.read_text(encoding="utf-8") + "".join("  " + line + "\n" for line in block.splitlines()),
        encoding="utf-8",
    )
    refused = cli("export", "--report", "WJ-COPY", "--date", "2026-11-30")
    assert refused.exit_code == 1 and "未列入报表清单" in refused.output  # a valid spec, not registered
    listing, _ = cli.json("admission", "list")
    ids = {r["report_id"] for r in listing["registry"]}
    assert "WJ-COPY" not in ids and {"MZ-DIBAO", "GA-SYRK", "SJ-GTGSH"} <= ids
    assert all(r["legal_basis"] for r in listing["registry"])


@pytest.mark.slow
def test_admitted_draft_is_written_by_the_next_run_and_reproduces_its_report(seeded: Path) -> None:
    cli = Cli()
    # 1. the 65+ roster of WJ-ELDERLY65, re-submitted under a new id, admitted: the same rows come out
    spec = yaml.safe_load((REPO_ROOT / "mappings" / "WJ-ELDERLY65.yaml").read_text(encoding="utf-8"))
    heads = [{"label": c["header"]} for c in spec["sheets"][0]["columns"]]
    copy = write_draft(seeded / "copy.yaml", spec["title"], heads, report_id="WJ-COPY", period="annual")
    review, _ = cli.json("admission", "submit", copy, "--dept", "卫健")
    assert review["duplicate_of"] == "WJ-ELDERLY65" and review["counts"]["new"] == 0
    out, code = cli.json(
        "admission", "decide", str(review["draft_id"]), "admit", "--reason", "复核", "--by", "admin"
    )
    assert code == 0, out
    assert cli("mappings", "check").exit_code == 0
    # 2. a draft with two new columns, admitted
    draft = write_draft(seeded / "d.yaml", "残疾人家庭医生签约服务情况表", COLUMNS, period="quarterly")
    review, _ = cli.json("admission", "submit", draft, "--dept", "卫健", "--by", "wj_li")
    assert [c["header"] for c in review["columns"] if c["kind"] == "new"] == ["签约家庭医生", "签约日期"]
    # the burden: per township, persons with a disability in the store × columns
    con = duckdb.connect(str(seeded / "home" / "hub.duckdb"), read_only=True)
    disabled = dict(
        con.execute(
            "SELECT p.township_code, count(DISTINCT p.person_code) FROM person p JOIN disability d USING (person_code) "
            "WHERE p.alive AND d.category IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    con.close()
    towns = {t["township_code"]: t for t in review["burden"]["townships"]}
    assert {k: t["records"] for k, t in towns.items()} == disabled and disabled
    asked = sum(1 for c in review["columns"] if c["kind"] != "form") + 1  # + 序号
    for code_, t in towns.items():
        assert t["cells_with_hub"] == disabled[code_] * 2
        assert t["cells_without_hub"] == disabled[code_] * asked
        assert t["per_month_with_hub"] == pytest.approx(disabled[code_] * 2 / 3, abs=0.1)  # quarterly
    decided, code = cli.json(
        "admission",
        "decide",
        str(review["draft_id"]),
        "admit",
        "--reason",
        "签约为新增考核指标",
        "--by",
        "admin",
    )
    assert code == 0 and decided["status"] == "admitted"
    report_id = review["report_id"]
    written = yaml.safe_load((seeded / "mappings" / f"{report_id}.yaml").read_text(encoding="utf-8"))
    assert [c["header"] for c in written["sheets"][0]["columns"]] == [
        [c] if isinstance(c, str) else [c["label"]] for c in COLUMNS
    ]
    listing, _ = cli.json("admission", "list")
    entry = next(r for r in listing["registry"] if r["report_id"] == report_id)
    assert entry["admitted_by"] == "admin" and entry["new_fields"] == 2 and "签约家庭医生" in entry["fields"]
    # 3. a later draft asking for 签约家庭医生 again is told which report already collects it
    later = write_draft(seeded / "l.yaml", "家庭医生签约名单", ["姓名", "身份证号", "签约家庭医生"])
    again, _ = cli.json("admission", "submit", later, "--dept", "医保")
    shared = again["columns"][2]
    assert shared["kind"] == "shared" and shared["shared_with"] == report_id
    # 4. the next run writes both admitted reports
    outdir, empty = seeded / "out", seeded / "nothing-new"
    empty.mkdir()
    ran = cli("run", empty, "--date", "2026-12-31", "--out", outdir, "--no-link")
    assert ran.exit_code == 0, ran.output
    ours = next((outdir / report_id).glob("*.xlsx"))
    ws = openpyxl.load_workbook(ours).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header_row = next(i for i, r in enumerate(values) if r[0] == "序号")
    assert values[header_row][8:10] == ["签约家庭医生", "签约日期"]
    rows = [r for r in values[header_row + 1 :] if isinstance(r[0], int)]
    assert len(rows) == disabled["331099101"]

    def rows_of(path: Path) -> set[tuple[object, ...]]:
        sheet = (
            openpyxl.load_workbook(path)["名单"]
            if "名单" in openpyxl.load_workbook(path).sheetnames
            else openpyxl.load_workbook(path).active
        )
        data = [[c.value for c in r] for r in sheet.iter_rows()]
        top = next(i for i, r in enumerate(data) if r[0] == "序号")
        return {tuple(r[1:]) for r in data[top + 1 :] if isinstance(r[0], int)}

    original = rows_of(next((outdir / "WJ-ELDERLY65").glob("*.xlsx")))
    again_rows = rows_of(next((outdir / "WJ-COPY").glob("*.xlsx")))
    assert original and again_rows == original  # the re-admitted report reproduces itself, row for row
    # 5. the burden ledger: what was typed, delivered, reused, and what admission prevented
    ledger, _ = cli.json("burden")
    qs = [r for r in ledger["rows"] if r["township_code"] == "331099101" and r["cells_delivered"]]
    assert qs and qs[0]["cells_typed"] >= 0 and 0 < qs[0]["reuse_rate"] <= 1
    assert report_id in qs[0]["reports"]
    assert ledger["county"]["drafts_decided"] == 2 and ledger["county"]["columns_prevented"] > 0
    assert "字段复用率" in cli("burden").stdout
    json.dumps(ledger)


@pytest.mark.slow
def test_an_aggregate_template_is_read_classified_and_admitted(bare: Path) -> None:
    """An xlsx form with a merged title and a two-level header naming no ledger field (the header
    finder's fallback): every count gets its 口径 question; admitted, it becomes a grouped spec."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某镇2026年65岁及以上老年人健康管理汇总表"])
    ws.merge_cells("A1:G1")
    ws.append(["村（社区）", "65-69岁", None, "70岁及以上", None, "合计", None])
    for cells in ("B2:C2", "D2:E2", "F2:G2", "A2:A3"):
        ws.merge_cells(cells)
    ws.append([None, "男", "女", "男", "女", "男", "女"])
    path = bare / "汇总表.xlsx"
    wb.save(path)
    cli = Cli()
    review, _ = cli.json("admission", "submit", path, "--dept", "卫健")
    assert review["title"] == "某镇2026年65岁及以上老年人健康管理汇总表" and review["period"] == "annual"
    assert [c["header"] for c in review["columns"]] == [
        "村（社区）",
        "65-69岁/男",
        "65-69岁/女",
        "70岁及以上/男",
        "70岁及以上/女",
        "合计/男",
        "合计/女",
    ]
    assert review["aggregate"] and review["burden"]["population"] == "elderly65"
    assert [c["question"] for c in review["columns"][1:]] == ["count"] * 6
    assert "BETWEEN 65 AND 69 AND p.sex = '1'" in review["columns"][1]["expr"]
    out, code = cli.json(
        "admission", "decide", str(review["draft_id"]), "admit", "--reason", "按年末周岁", "--by", "admin"
    )
    assert code == 0, out
    spec = yaml.safe_load((bare / "mappings" / f"{review['report_id']}.yaml").read_text(encoding="utf-8"))
    assert spec["sheets"][0]["group_by"] == ["p.village_code", "p.village_name"]

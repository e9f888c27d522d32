"""Steward pages: schema, mappings check / preview / publish with history, merge, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import escape

from hub.serve.specs import diff_rows
from tests.serve.conftest import QINGSHAN, login, page_csrf

REF = "2026-11-30"


def test_schema_and_mappings_pages(app: Any) -> None:
    s = login(app, "steward")
    schema = s.get("/steward/schema").text
    assert "公民身份号码" in schema and "id-checksum" in schema and "敏感个人信息" in schema
    page = s.get("/steward/mappings").text
    assert "MZ-DIBAO" in page and "全部映射规格检查通过" in page


def test_check_reports_problems_like_the_cli(app: Any, mappings: Path) -> None:
    s = login(app, "steward")
    original = (mappings / "MZ-GAOLING.yaml").read_text(encoding="utf-8")
    bad = original.replace("expr: p.village_name", "expr: p.village_nam")
    r = s.post(
        "/steward/mappings/MZ-GAOLING",
        data={"text": bad, "action": "publish", "csrf_token": page_csrf(s, "/steward/mappings/MZ-GAOLING")},
    )
    assert r.status_code == 200 and 'id="problems"' in r.text and "village_nam" in r.text
    assert (mappings / "MZ-GAOLING.yaml").read_text(encoding="utf-8") == original  # not published
    (mappings / "MZ-GAOLING.yaml").write_text(bad, encoding="utf-8")
    cli = [str(p) for p in app.state.hub_state.hub.check_mappings(mappings)]
    assert cli and all(str(escape(p)) in r.text for p in cli)


def test_preview_then_publish_versions_the_spec(loaded: Any, mappings: Path) -> None:
    s = login(loaded, "steward")
    original = (mappings / "MZ-GAOLING.yaml").read_text(encoding="utf-8")
    draft = original.replace("- [80-89周岁, 80, 89, 60]", "- [80-89周岁, 80, 89, 75]")
    token = page_csrf(s, "/steward/mappings/MZ-GAOLING")
    r = s.post(
        "/steward/mappings/MZ-GAOLING",
        data={"text": draft, "action": "preview", "date": REF, "csrf_token": token},
    )
    assert r.status_code == 200 and 'id="diffs"' in r.text
    assert "青山镇" in r.text and "80-89周岁/金额（元）" in r.text and "修改" in r.text
    assert (mappings / "MZ-GAOLING.yaml").read_text(encoding="utf-8") == original
    forged = s.post("/steward/mappings/MZ-GAOLING", data={"text": draft, "action": "publish"})
    assert (
        forged.status_code == 403 and (mappings / "MZ-GAOLING.yaml").read_text(encoding="utf-8") == original
    )
    r = s.post(
        "/steward/mappings/MZ-GAOLING",
        data={"text": draft, "action": "publish", "date": REF, "csrf_token": token},
    )
    assert r.status_code == 200 and "已发布为第 2 版" in r.text
    assert (mappings / "MZ-GAOLING.yaml").read_text(encoding="utf-8") == draft
    versions = loaded.state.hub_state.hub.db.dicts(
        "SELECT version, published_by, summary FROM hub_spec_versions WHERE report_id = 'MZ-GAOLING' ORDER BY version"
    )
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["published_by"] == "steward"
    assert "青山镇" in versions[1]["summary"] and "修改" in versions[1]["summary"]
    assert "+      - [80-89周岁, 80, 89, 75]" in r.text  # the history shows what changed
    from datetime import date

    from hub.export import preview_report

    rows = preview_report(loaded.state.hub_state.hub.db, "MZ-GAOLING", QINGSHAN, date(2026, 11, 30))
    total = rows[-1]
    assert total["80-89周岁/金额（元）"] == 75 * int(str(total["80-89周岁/人数（个）"]))


def test_upload_a_spec_file_and_new_spec(app: Any, mappings: Path) -> None:
    s = login(app, "steward")
    text = (mappings / "SJ-GTGSH.yaml").read_text(encoding="utf-8")
    r = s.post(
        "/steward/mappings/SJ-GTGSH",
        data={"action": "check", "csrf_token": page_csrf(s, "/steward/mappings")},
        files={"file": ("SJ-GTGSH.yaml", text.encode("utf-8"), "application/x-yaml")},
    )
    assert r.status_code == 200 and 'id="check-ok"' in r.text
    r = s.post(
        "/steward/mappings", data={"report_id": "MZ-TEKUN", "csrf_token": page_csrf(s, "/steward/mappings")}
    )
    assert r.status_code == 200 and "MZ-TEKUN" in r.text
    r = s.post(
        "/steward/mappings/MZ-TEKUN",
        data={"action": "check", "text": "id: MZ-OTHER\n", "csrf_token": page_csrf(s, "/steward/mappings")},
    )
    assert "文件名与 id 必须一致" in r.text
    assert s.get("/steward/mappings/bad id").status_code in (400, 404)


def test_diff_rows_matches_on_identifying_column() -> None:
    old = [{"序号": 1, "身份证号": "A", "姓名": "张三"}, {"序号": 2, "身份证号": "B", "姓名": "李四"}]
    new = [
        {"序号": 1, "身份证号": "B", "姓名": "李四"},
        {"序号": 2, "身份证号": "C", "姓名": "王五"},
        {"序号": 3, "身份证号": "A", "姓名": "张叁"},
    ]
    d = diff_rows(old, new)
    assert d.key == ["身份证号"]
    assert [r["身份证号"] for r in d.added] == ["C"] and d.removed == []
    assert d.changed == [("A", [("姓名", "张三", "张叁")])]  # 序号 renumbering is not a change
    assert diff_rows(old, old).unchanged


def test_steward_home_merge_submissions_and_validation(loaded: Any) -> None:
    s = login(loaded, "steward")
    home = s.get("/steward")
    assert home.status_code == 200 and "青山镇" in home.text
    assert (
        s.post(
            "/steward/merge", data={"csrf_token": page_csrf(s, "/steward")}, follow_redirects=False
        ).status_code
        == 303
    )
    assert "青山镇_人口台账_2026.xlsx" in s.get("/steward/submissions").text
    assert s.get("/steward/validation").status_code == 404
    docs = loaded.state.hub_state.hub.home / "validation"
    docs.mkdir()
    (docs / "index.html").write_text("<h1>数据校验报告</h1>", encoding="utf-8")
    assert "数据校验报告" in s.get("/steward/validation").text
    assert s.get("/steward/validation/../hub.duckdb").status_code == 404
    assert login(loaded, "qs_clerk").get("/steward/validation").status_code == 403

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


def test_steward_decides_a_review_pair_on_the_page(loaded: Any) -> None:
    """记录复核: the pair between the thresholds, both records with their source row; a decision is
    applied at once (one person, kept with who decided) and the pair is not asked again."""
    hub = loaded.state.hub_state.hub
    pending = hub.review_pending()
    assert (
        len(pending) == 1
    )  # the seeded ledgers: 钟国强 of the disability ledger (no ID) and of the 低保 roster
    pair = pending[0]
    left, right = pair["left"], pair["right"]
    s = login(loaded, "steward")
    assert "<b>1</b> 对记录可能是同一人" in s.get("/steward").text  # the home page points to it
    page = s.get("/steward/review").text
    assert f'data-pair="{pair["pair_id"]}"' in page and "待确认 <b>1</b> 对" in page
    for r in (left, right):
        assert f"{r['file_name']} {r['sheet']} 第{r['row_no']}行" in page
    assert "331099********8771" in page and "331099193610038771" not in page  # masked, as in `hub review`
    assert (
        "姓名：姓名相同（+" in page
        and "出生日期：不计分（一方为空）" in page
        and "是同一人" in page
        and "不是同一人" in page
    )
    row = "SELECT accepted, id_number FROM hub_rows WHERE submission_id = ? AND sheet = ? AND row_no = ?"
    assert hub.db.rows(row, [left["submission_id"], left["sheet"], left["row_no"]]) == [(False, None)]
    codes = {
        r["uid"]: hub.db.scalar("SELECT person_code FROM hub_link_clusters WHERE uid = ?", [r["uid"]])
        for r in (left, right)
    }
    assert len(set(codes.values())) == 2  # two persons until someone decides
    url = f"/steward/review/{pair['pair_id']}"
    assert (
        s.post(url, data={"decision": "accept"}, follow_redirects=False).status_code == 403
    )  # no CSRF token
    token = page_csrf(s, "/steward/review")
    bad = s.post(url, data={"decision": "maybe", "csrf_token": token})
    assert bad.status_code == 400 and "是同一人" in bad.text
    unknown = s.post("/steward/review/000000000000", data={"decision": "accept", "csrf_token": token})
    assert unknown.status_code == 400 and "没有编号为 000000000000 的待确认记录对" in unknown.text
    r = s.post(url, data={"decision": "accept", "csrf_token": token})
    assert r.status_code == 200 and 'id="decided"' in r.text
    assert f"记录对 {pair['pair_id']} 是同一人（steward），已重新合并" in r.text and 'id="no-pairs"' in r.text
    assert hub.review_pending() == []
    assert "没有待确认的记录对" in s.get("/steward").text
    # the disability row without an ID takes the 低保 roster's and joins that person, disability and all
    filled = hub.db.rows(row, [left["submission_id"], left["sheet"], left["row_no"]])
    assert filled == [(True, "331099193610038771")]
    person = hub.db.scalar("SELECT person_code FROM hub_person WHERE id_number = '331099193610038771'")
    assert hub.db.scalar("SELECT count(*) FROM hub_disability WHERE person_code = ?", [person]) == 1
    merged = {hub.db.scalar("SELECT person_code FROM hub_link_clusters WHERE uid = ?", [u]) for u in codes}
    assert len(merged) == 1
    decided = hub.db.dicts(
        "SELECT decision, decided_by FROM hub_link_decisions WHERE pair_id = ?", [pair["pair_id"]]
    )
    assert decided == [{"decision": "accept", "decided_by": "steward"}]
    clerk = login(loaded, "qs_clerk")
    assert (
        clerk.post(url, data={"decision": "reject", "csrf_token": page_csrf(clerk, "/clerk")}).status_code
        == 403
    )

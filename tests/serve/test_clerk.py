"""The clerk's journey over HTTP: upload, results, history, scope, limits, conflicts, template."""

from __future__ import annotations

import io
from typing import Any

import pytest  # noqa: F401
from markupsafe import escape

from tests.serve.conftest import SAMPLE, login, page_csrf, upload

POPULATION = SAMPLE / "青山镇_人口台账_2026.xlsx"


def _submission(app: Any) -> int:
    return int(
        app.state.hub_state.hub.db.scalar(
            "SELECT submission_id FROM hub_submissions WHERE file_name = ?", [POPULATION.name]
        )
    )


def test_upload_reports_counts_history_and_unchanged(app: Any) -> None:
    c = login(app, "qs_clerk")
    job = upload(c, POPULATION)
    assert job["status"] == "done", job
    rep = job["reports"][0]
    assert rep["status"] == "ingested" and rep["name"] == POPULATION.name
    assert rep["rows"] == rep["accepted"] + rep["rejected"] and rep["rejected"] > 0
    db = app.state.hub_state.hub.db
    sub = db.dicts("SELECT * FROM hub_submissions WHERE submission_id = ?", [rep["submission_id"]])[0]
    assert sub["township_code"] == "331099101" and sub["submitted_by"] == "qs_clerk"
    assert sub["file_name"] == POPULATION.name  # the clerk's own name, not the stored copy's
    assert sub["file_name"] == POPULATION.name  # the clerk's own file name, not the stored copy's
    assert db.scalar("SELECT count(*) FROM hub_person") > 0  # merged after the upload
    page = c.get(f"/clerk/jobs/{job['id']}")
    assert page.status_code == 200 and "已导入" in page.text and POPULATION.name in page.text
    history = c.get("/clerk/submissions")
    assert POPULATION.name in history.text and "查看结果" in history.text
    assert login(app, "cg_clerk").get(f"/clerk/jobs/{job['id']}").status_code == 404
    again = upload(c, POPULATION)
    assert again["reports"][0]["status"] == "unchanged"
    assert again["reports"][0]["submission_id"] == rep["submission_id"]


def test_result_page_lists_counts_and_every_problem(loaded: Any) -> None:
    c, sid = login(loaded, "qs_clerk"), _submission(loaded)
    db = loaded.state.hub_state.hub.db
    sub = db.dicts("SELECT * FROM hub_submissions WHERE submission_id = ?", [sid])[0]
    page = c.get(f"/clerk/submissions/{sid}")
    assert page.status_code == 200
    assert f'id="n-rows">{sub["rows"]}<' in page.text and f'id="n-rejected">{sub["rejected"]}<' in page.text
    findings = db.dicts("SELECT * FROM hub_findings WHERE submission_id = ?", [sid])
    assert (
        page.text.count('<tr class="error">') + page.text.count('<tr class="warning">') == len(findings) > 0
    )
    sample = next(f for f in findings if f["code"] == "id-checksum")
    assert (
        str(escape(sample["message"])) in page.text
        and f'<td class="num">{sample["row_no"]}</td>' in page.text
    )


def test_problem_table_filters(loaded: Any) -> None:
    c, sid = login(loaded, "qs_clerk"), _submission(loaded)
    db = loaded.state.hub_state.hub.db
    n_err = db.scalar(
        "SELECT count(*) FROM hub_findings WHERE submission_id = ? AND severity = 'error'", [sid]
    )
    page = c.get(f"/clerk/submissions/{sid}", params={"severity": "error"}).text
    assert page.count('<tr class="error">') == n_err and '<tr class="warning">' not in page
    page = c.get(f"/clerk/submissions/{sid}", params={"q": "校验位"}).text
    n_check = db.scalar(
        "SELECT count(*) FROM hub_findings WHERE submission_id = ? AND message LIKE '%校验位%'", [sid]
    )
    assert page.count("<tr class=") == n_check > 0


def test_annotated_workbook_download(loaded: Any) -> None:
    c, sid = login(loaded, "qs_clerk"), _submission(loaded)
    r = c.get(f"/clerk/submissions/{sid}/annotated")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "attachment" in r.headers["content-disposition"]


def test_clerk_of_another_township_cannot_see_the_submission(loaded: Any) -> None:
    other, sid = login(loaded, "cg_clerk"), _submission(loaded)
    for path in (f"/clerk/submissions/{sid}", f"/clerk/submissions/{sid}/annotated"):
        r = other.get(path)
        assert r.status_code == 403 and "不属于您的乡镇" in r.text
    assert POPULATION.name not in other.get("/clerk/submissions").text
    assert POPULATION.name not in other.get("/clerk").text
    assert login(loaded, "mz_user").get(f"/clerk/submissions/{sid}").status_code == 403
    assert login(loaded, "steward").get(f"/clerk/submissions/{sid}").status_code == 200


def test_preview_shows_what_departments_receive(loaded: Any) -> None:
    from datetime import date

    from hub.export import preview_report

    c = login(loaded, "qs_clerk")
    page = c.get("/clerk/preview", params={"report": "MZ-GAOLING", "date": "2026-11-30"})
    assert page.status_code == 200 and "高龄津贴发放汇总表" in page.text
    rows = preview_report(loaded.state.hub_state.hub.db, "MZ-GAOLING", "331099101", date(2026, 11, 30))
    assert f"共 {len(rows)} 行" in page.text
    assert "GA-SYRK" not in page.text  # county-wide exchange files are not a township's preview


def test_unreadable_and_unsupported_files_are_refused_with_the_message(app: Any) -> None:
    c = login(app, "qs_clerk")
    token = page_csrf(c, "/clerk")
    files = [
        ("files", ("坏文件.xlsx", b"this is not a workbook", "application/octet-stream")),
        ("files", ("照片.jpg", b"\xff\xd8\xff", "image/jpeg")),
    ]
    r = c.post("/clerk/upload", data={"csrf_token": token}, files=files)
    assert r.status_code == 200  # followed the redirect to the job page
    job_url = str(r.url)
    import time

    for _ in range(200):
        job = c.get(job_url, headers={"Accept": "application/json"}).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    by_name = {x["name"]: x for x in job["reports"]}
    assert by_name["照片.jpg"]["status"] == "refused" and "不支持的文件类型" in by_name["照片.jpg"]["message"]
    assert (
        by_name["坏文件.xlsx"]["status"] == "refused" and "坏文件.xlsx" in by_name["坏文件.xlsx"]["message"]
    )
    page = c.get(job_url).text
    assert "拒收" in page and "不支持的文件类型" in page and str(app.state.hub_state.hub.home) not in page


def test_upload_size_limit(app: Any) -> None:
    app.state.hub_state.max_upload_bytes = 1000
    c = login(app, "qs_clerk")
    token = page_csrf(c, "/clerk")
    r = c.post(
        "/clerk/upload",
        data={"csrf_token": token},
        headers={"Accept": "application/json"},
        files=[("files", ("大.csv", io.BytesIO(b"x" * 5000), "text/csv"))],
    )
    job = c.get(r.json()["url"], headers={"Accept": "application/json"}).json()
    assert job["reports"][0]["status"] == "refused" and "MB 上限" in job["reports"][0]["message"]
    r = c.post(
        "/clerk/upload",
        data={"csrf_token": token},
        files=[("files", ("巨.csv", b"x" * 30_000_000, "text/csv"))],
    )
    assert r.status_code == 413 and "上限" in r.text


def test_upload_without_files_or_csrf(app: Any) -> None:
    c = login(app, "qs_clerk")
    assert c.post("/clerk/upload", files=[("files", ("a.csv", b"x", "text/csv"))]).status_code == 403
    r = c.post("/clerk/upload", data={"csrf_token": page_csrf(c, "/clerk")})
    assert r.status_code == 400 and "请选择" in r.text


def test_conflicts_page_is_scoped(loaded: Any) -> None:
    hub = loaded.state.hub_state.hub
    hub.ingest([SAMPLE / "城关街道_人口台账_2026.xlsx"], township="331099001", annotate=False)
    hub.merge()
    from hub.serve.privacy import clerk_conflicts

    # the township's conflicts, and those of its people counted elsewhere (shown as 也在…登记)
    mine = clerk_conflicts(hub, "331099101")
    assert {c["code"] for c in hub.conflicts("331099101")} <= {c["code"] for c in mine}
    page = login(loaded, "qs_clerk").get("/clerk/conflicts")
    assert page.status_code == 200
    assert (f"共 {len(mine)} 条" in page.text) if mine else ("没有冲突" in page.text)
    everything = login(loaded, "steward").get("/steward/conflicts")
    assert f"共 {len(hub.conflicts(None))} 条" in everything.text

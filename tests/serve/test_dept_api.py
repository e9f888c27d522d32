"""Departments: report list, downloads with purpose, API tokens, role boundaries, access log."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from fastapi.testclient import TestClient

from hub.serve.accounts import create_token, get_user
from tests.serve.conftest import QINGSHAN, login, page_csrf

REF = "2026-11-30"


def token_for(app: Any, name: str) -> str:
    db = app.state.hub_state.hub.db
    user = get_user(db, name)
    assert user is not None
    return create_token(db, user, "test")


def test_department_page_lists_only_its_reports(app: Any) -> None:
    page = login(app, "mz_user").get("/dept", params={"date": REF})
    assert page.status_code == 200
    assert "MZ-DIBAO" in page.text and "MZ-GAOLING" in page.text
    assert "GA-SYRK" not in page.text and "CL-LXBT" not in page.text
    assert "青山镇" in page.text and "2026年11月" in page.text


def test_download_needs_purpose_and_is_logged(loaded: Any) -> None:
    c = login(loaded, "mz_user")
    token = page_csrf(c, "/dept")
    form = {"report": "MZ-GAOLING", "township": QINGSHAN, "date": REF, "csrf_token": token}
    r = c.post("/dept/download", data=form)
    assert r.status_code == 400 and "用途" in r.text
    r = c.post("/dept/download", data={**form, "purpose": "11月高龄津贴核对"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    from openpyxl import load_workbook

    title = load_workbook(io.BytesIO(r.content)).worksheets[0].cell(1, 1).value
    assert "青山镇" in title and "高龄老人" in title
    log = loaded.state.hub_state.hub.db.dicts("SELECT * FROM hub_access_log")
    assert len(log) == 1
    entry = log[0]
    assert (
        entry["username"] == "mz_user" and entry["department"] == "民政" and entry["report"] == "MZ-GAOLING"
    )
    assert (
        entry["township_code"] == QINGSHAN
        and str(entry["ref_date"]) == REF
        and entry["purpose"] == "11月高龄津贴核对"
    )
    assert entry["sha256"] == hashlib.sha256(r.content).hexdigest() == r.headers["x-hub-sha256"]
    assert entry["records"] == int(r.headers["x-hub-records"]) > 0 and entry["channel"] == "web"


def test_department_cannot_download_another_departments_report(loaded: Any) -> None:
    c = login(loaded, "ga_user")
    r = c.post(
        "/dept/download",
        data={
            "report": "MZ-DIBAO",
            "township": QINGSHAN,
            "date": REF,
            "purpose": "核对实有人口",
            "csrf_token": page_csrf(c, "/dept"),
        },
    )
    assert r.status_code == 403 and "民政" in r.text
    assert loaded.state.hub_state.hub.db.scalar("SELECT count(*) FROM hub_access_log") == 0


def test_api_pull_file_json_and_log(loaded: Any) -> None:
    c = TestClient(loaded)
    auth = {"Authorization": f"Bearer {token_for(loaded, 'mz_user')}"}
    listed = c.get("/api/v1/reports", headers=auth).json()
    assert {r["id"] for r in listed} == {"MZ-DIBAO", "MZ-GAOLING"}
    r = c.get(
        "/api/v1/reports/MZ-GAOLING",
        params={"township": QINGSHAN, "date": REF, "purpose": "月度资金核对"},
        headers=auth,
    )
    assert r.status_code == 200 and r.content[:2] == b"PK"
    # the same file the CLI writes
    with_cli = loaded.state.hub_state.hub.export(
        reports=["MZ-GAOLING"],
        townships=[QINGSHAN],
        ref_date=__import__("datetime").date(2026, 11, 30),
        out_dir=loaded.state.hub_state.hub.home / "cli-out",
    )
    from openpyxl import load_workbook

    def cells(data: bytes) -> list[tuple[Any, ...]]:
        return list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))

    assert cells(r.content) == cells(with_cli[0].path.read_bytes())
    j = c.get(
        "/api/v1/reports/MZ-GAOLING",
        params={"township": "青山镇", "date": REF, "purpose": "高龄津贴发放", "format": "json"},
        headers=auth,
    )
    assert j.status_code == 200 and j.json()["report"] == "MZ-GAOLING" and isinstance(j.json()["rows"], list)
    log = loaded.state.hub_state.hub.db.dicts(
        "SELECT channel, report, format FROM hub_access_log ORDER BY access_id"
    )
    assert log == [
        {"channel": "api", "report": "MZ-GAOLING", "format": "xlsx"},
        {"channel": "api", "report": "MZ-GAOLING", "format": "json"},
    ]


def test_api_errors_have_one_json_shape(loaded: Any) -> None:
    c = TestClient(loaded)
    auth = {"Authorization": f"Bearer {token_for(loaded, 'ga_user')}"}
    cases = [
        ({}, "/api/v1/reports/GA-SYRK", {"date": REF, "purpose": "核对"}, 401, "unauthenticated"),
        ({"Authorization": "Bearer hub_forged"}, "/api/v1/reports", {}, 401, "unauthenticated"),
        (auth, "/api/v1/reports/GA-SYRK", {"date": REF}, 400, "purpose-required"),
        (auth, "/api/v1/reports/GA-SYRK", {"date": REF, "purpose": "  "}, 400, "purpose-required"),
        (
            auth,
            "/api/v1/reports/MZ-DIBAO",
            {"township": QINGSHAN, "date": REF, "purpose": "看看低保名单"},
            403,
            "forbidden",
        ),
        (auth, "/api/v1/reports/XX-NONE", {"purpose": "核对数据用途"}, 404, "report-unknown"),
        (auth, "/api/v1/reports/GA-SYRK", {"date": "2026-13-01", "purpose": "核对数据用途"}, 400, "bad-date"),
        (
            auth,
            "/api/v1/reports/GA-SYRK",
            {"purpose": "核对数据用途", "format": "pdf"},
            400,
            "invalid-request",
        ),
        (auth, "/api/v1/nothing", {}, 404, "http-404"),
    ]
    for headers, path, params, status, code in cases:
        r = c.get(path, params=params, headers=headers)
        assert r.status_code == status, (path, params, r.text)
        body = r.json()
        assert body["error"] == code and body["message"], body
    assert loaded.state.hub_state.hub.db.scalar("SELECT count(*) FROM hub_access_log") == 0


def test_county_wide_report_over_api(loaded: Any) -> None:
    c = TestClient(loaded)
    auth = {"Authorization": f"Bearer {token_for(loaded, 'ga_user')}"}
    r = c.get("/api/v1/reports/GA-SYRK", params={"date": REF, "purpose": "实有人口数据交换"}, headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.decode("gbk").splitlines()[0].startswith("XM,")
    assert loaded.state.hub_state.hub.db.scalar("SELECT township_code FROM hub_access_log") is None


def test_tokens_page_creates_and_revokes(app: Any) -> None:
    c = login(app, "mz_user")
    r = c.post("/dept/tokens", data={"label": "低保系统", "csrf_token": page_csrf(c, "/dept/tokens")})
    token = r.text.split('<pre id="new-token">')[1].split("</pre>")[0]
    api = TestClient(app)
    assert api.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert c.post("/dept/tokens/revoke", data={"hint": token[:10]}).status_code == 403  # no CSRF
    c.post("/dept/tokens/revoke", data={"hint": token[:10], "csrf_token": page_csrf(c, "/dept/tokens")})
    assert api.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert token not in str(app.state.hub_state.hub.db.rows("SELECT * FROM hub_api_tokens"))


def test_openapi_documents_the_api_only(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert set(doc["paths"]) == {
        "/api/v1/reports",
        "/api/v1/reports/{report_id}",
        "/api/v1/changes/{report_id}",
        "/api/v1/feedback",
    }
    params = {p["name"] for p in doc["paths"]["/api/v1/reports/{report_id}"]["get"]["parameters"]}
    assert {"township", "date", "purpose", "format"} <= params
    params = {p["name"] for p in doc["paths"]["/api/v1/changes/{report_id}"]["get"]["parameters"]}
    assert {"township", "since", "date", "purpose"} <= params


def test_steward_browses_and_exports_the_access_log(loaded: Any) -> None:
    dept = login(loaded, "mz_user")
    token = page_csrf(dept, "/dept")
    for purpose in ("高龄复核一", "高龄复核二"):
        dept.post(
            "/dept/download",
            data={
                "report": "MZ-GAOLING",
                "township": QINGSHAN,
                "date": REF,
                "purpose": purpose,
                "csrf_token": token,
            },
        )
    s = login(loaded, "steward")
    page = s.get("/steward/access-log", params={"department": "民政"})
    assert page.status_code == 200 and "高龄复核一" in page.text and "高龄复核二" in page.text
    assert "高龄复核" not in s.get("/steward/access-log", params={"department": "公安"}).text
    csv_text = s.get("/steward/access-log.csv").content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("序号,时间,用户") and len(lines) == 3 and "高龄复核一" in csv_text
    assert login(loaded, "mz_user").get("/steward/access-log.csv").status_code == 403

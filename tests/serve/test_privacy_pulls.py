"""What a department pull records and returns, what the pages say, and what the hub keeps on disk:
a download link writes no log entry; the same report pulled twice has one hash; the xlsx and the
JSON of one pull state one records figure; no internal name or English message reaches a page;
a bad query value is a 400 in Chinese; uploads, exports and the store are 0600 and pruned."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.serve.accounts import create_token, get_user
from tests.serve.conftest import QINGSHAN, SAMPLE, login, page_csrf, upload

REF = "2026-11-30"
# internal names and library messages that must not reach a page (the label map is hub/serve/labels.py)
INTERNAL = [
    r"\bpopulation\b",
    r"\bdisability\b",
    r"\bdibao\b",
    r"\btownship_code\b",
    r"\bvillage_code\b",
    r"\bmonthly\b",
    r"\bquarterly\b",
    r"\bannual\b",
    r"\bon_demand\b",
    r"Field required",
    r"File not found",
    r"_rels/\.rels",
    r"Traceback",
    r"Internal Server Error",
]


def _visible(html: str) -> str:
    """The text a person reads: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _token(app: Any, name: str) -> str:
    db = app.state.hub_state.hub.db
    user = get_user(db, name)
    assert user is not None
    return create_token(db, user, "test")


def _log_count(app: Any) -> int:
    return int(app.state.hub_state.hub.db.scalar("SELECT count(*) FROM hub_access_log"))


def test_a_download_link_writes_no_log_entry(loaded: Any) -> None:
    c = login(loaded, "mz_user")
    r = c.get(
        "/dept/download",
        params={"report": "MZ-GAOLING", "township": QINGSHAN, "date": REF, "purpose": "跨站链接试探"},
    )
    assert r.status_code == 405 and "用途" in r.text and r.content[:2] != b"PK"
    assert _log_count(loaded) == 0
    form = {"report": "MZ-GAOLING", "township": QINGSHAN, "date": REF, "purpose": "高龄津贴核对"}
    assert c.post("/dept/download", data=form).status_code == 403  # no CSRF token: refused, not logged
    assert _log_count(loaded) == 0
    page = c.get("/dept", params={"date": REF}).text
    assert 'method="post" action="/dept/download"' in page and 'name="csrf_token"' in page
    r = c.post("/dept/download", data={**form, "csrf_token": page_csrf(c, "/dept")})
    assert r.status_code == 200 and r.content[:2] == b"PK" and _log_count(loaded) == 1


def test_one_hash_for_the_same_report_and_one_records_figure_per_pull(loaded: Any) -> None:
    from openpyxl import load_workbook

    api = TestClient(loaded)
    auth = {"Authorization": f"Bearer {_token(loaded, 'mz_user')}"}
    params = {"township": QINGSHAN, "date": REF, "purpose": "低保名册核对"}
    first = api.get("/api/v1/reports/MZ-DIBAO", params=params, headers=auth)
    time.sleep(1.1)  # a file stamped with the time of writing would differ now
    second = api.get("/api/v1/reports/MZ-DIBAO", params=params, headers=auth)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["x-hub-sha256"] == second.headers["x-hub-sha256"]
    assert first.headers["x-hub-sha256"] == hashlib.sha256(first.content).hexdigest()
    as_json = api.get("/api/v1/reports/MZ-DIBAO", params={**params, "format": "json"}, headers=auth)
    body = as_json.json()
    households = int(first.headers["x-hub-records"])
    assert households > 0
    # one figure: the households the roster covers, in the xlsx pull, the JSON and the JSON's header
    assert body["records"] == households == int(as_json.headers["x-hub-records"])
    assert len(body["rows"]) > households  # the members of those households, the 合计 apart
    assert body["total"] is not None and f"合计（{households}户）" in body["total"].values()
    import io
    import warnings

    with warnings.catch_warnings():  # a comment on a merged household cell is on its first row only
        warnings.simplefilter("error")
        ws = load_workbook(io.BytesIO(first.content)).worksheets[0]
    cells = [str(v) for row in ws.iter_rows(values_only=True) for v in row if v]
    assert f"合计（{households}户）" in cells
    log = loaded.state.hub_state.hub.db.dicts("SELECT records, format FROM hub_access_log ORDER BY access_id")
    assert [r["records"] for r in log] == [households] * 3 and log[-1]["format"] == "json"


@pytest.mark.slow  # ~35 s on 2 cores; the words on pages are also checked by the role matrix's bodies
def test_pages_show_no_internal_names_or_english(loaded: Any) -> None:
    sid = loaded.state.hub_state.hub.db.scalar(
        "SELECT min(submission_id) FROM hub_submissions WHERE township_code = ?", [QINGSHAN]
    )
    pages = {
        "qs_clerk": [
            "/clerk",
            "/clerk/submissions",
            f"/clerk/submissions/{sid}",
            "/clerk/conflicts",
            f"/clerk/preview?date={REF}",
        ],
        "mz_user": [f"/dept?date={REF}", "/dept/tokens"],
        "steward": ["/steward", "/steward/mappings", "/steward/submissions", "/steward/access-log"],
    }
    mz = login(loaded, "mz_user")
    mz.post(
        "/dept/download",
        data={
            "report": "MZ-GAOLING",
            "township": QINGSHAN,
            "date": REF,
            "purpose": "高龄津贴核对",
            "csrf_token": page_csrf(mz, "/dept"),
        },
    )  # an access-log line to show
    for role, paths in pages.items():
        c = mz if role == "mz_user" else login(loaded, role)
        for path in paths:
            r = c.get(path)
            assert r.status_code == 200, (role, path, r.status_code)
            text = _visible(r.text)
            found = [p for p in INTERNAL if re.search(p, text)]
            assert not found, f"{role} {path}: {found}"
    text = _visible(login(loaded, "steward").get("/steward/mappings").text)
    assert "月报" in text and "年报" in text


def test_bad_query_values_are_a_400_in_chinese(loaded: Any) -> None:
    clerk = login(loaded, "qs_clerk")
    for query in (
        "date=0001-01-01",
        "date=9999-12-31",
        "date=2026-13-01",
        "date=yesterday",
        "report=XX-NONE",
    ):
        r = clerk.get(f"/clerk/preview?{query}")
        assert r.status_code == 400, (query, r.status_code)
        assert re.search(r"[\u4e00-\u9fff]", r.text) and "Traceback" not in r.text
    r = clerk.get("/clerk/submissions/abc")
    assert r.status_code == 400 and "提交号" in r.text and "sid" not in _visible(r.text)
    dept = login(loaded, "mz_user")
    assert dept.get("/dept", params={"date": "0001-01-01"}).status_code == 400
    api = TestClient(loaded)
    auth = {"Authorization": f"Bearer {_token(loaded, 'mz_user')}"}
    r = api.get(
        "/api/v1/reports/MZ-GAOLING",
        params={"township": QINGSHAN, "date": "0001-01-01", "purpose": "高龄津贴核对"},
        headers=auth,
    )
    assert r.status_code == 400 and r.json()["error"] == "bad-date" and "日期" in r.json()["message"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_uploads_exports_and_the_store_are_private(app: Any) -> None:
    c = login(app, "qs_clerk")
    job = upload(c, SAMPLE / "青山镇_市场主体台账_2026.xlsx")
    assert job["status"] == "done", job
    home = app.state.hub_state.hub.home
    uploads = [p for p in (home / "uploads").rglob("*") if p.is_file()]
    assert uploads and all(_mode(p) == 0o600 for p in uploads)
    assert _mode(home / "hub.duckdb") == 0o600
    annotated = (
        [p for p in (home / "annotated").rglob("*") if p.is_file()] if (home / "annotated").exists() else []
    )
    assert all(_mode(p) == 0o600 for p in annotated)
    hub = app.state.hub_state.hub
    hub.merge()
    results = hub.export(
        reports=["SJ-GTGSH"], ref_date=__import__("datetime").date(2026, 11, 30), out_dir=home / "exports"
    )
    assert results and all(_mode(Path(r.path)) == 0o600 for r in results if r.path)


def test_retention_prunes_old_files_and_keeps_the_audit(app: Any, monkeypatch: Any) -> None:
    from hub.retention import prune

    c = login(app, "qs_clerk")
    job = upload(c, SAMPLE / "青山镇_市场主体台账_2026.xlsx")
    assert job["status"] == "done", job
    home = app.state.hub_state.hub.home
    files = [
        p
        for d in ("uploads", "annotated")
        if (home / d).exists()
        for p in (home / d).rglob("*")
        if p.is_file()
    ]
    assert files
    old = time.time() - 40 * 86400
    for p in files[:1]:
        os.utime(p, (old, old))
    done = prune(home, 30)
    assert done.files == 1 and not files[0].exists() and all(p.exists() for p in files[1:])
    submissions = app.state.hub_state.hub.db.scalar("SELECT count(*) FROM hub_submissions")
    assert submissions >= 1  # the store (submissions, findings, access log) is never pruned
    # the server prunes by HUB_RETENTION_DAYS: when it starts, then at most once a day on an upload
    for p in files[1:]:
        os.utime(p, (old, old))
    monkeypatch.setenv("HUB_RETENTION_DAYS", "30")
    st = app.state.hub_state
    st.last_pruned = 0.0
    st.prune_if_due()
    assert not any(p.exists() for p in files)
    assert (home / "hub.duckdb").exists()

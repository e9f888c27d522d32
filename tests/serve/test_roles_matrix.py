"""Every route × every role → the expected status, and no foreign data in what comes back.

Roles: anonymous, the clerk of 青山镇 (A, whose ledgers are in the store), the clerk of 城关街道 (B),
the 民政 department (X), the 公安 department (Y) and the steward. A route the matrix does not
list fails the test: whoever adds a page decides who may see it, here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.serve.conftest import QINGSHAN, login

ROLES = ["anonymous", "qs_clerk", "cg_clerk", "mz_user", "ga_user", "steward"]
LOGIN = 303  # a page asks an anonymous visitor to sign in (redirect to /login)
REF = "2026-11-30"

# path template → (the URL requested, {role: status}); {sid} is a submission of 青山镇
C_ONLY = {
    "anonymous": LOGIN,
    "qs_clerk": 200,
    "cg_clerk": 200,
    "mz_user": 403,
    "ga_user": 403,
    "steward": 403,
}
D_ONLY = {
    "anonymous": LOGIN,
    "qs_clerk": 403,
    "cg_clerk": 403,
    "mz_user": 200,
    "ga_user": 200,
    "steward": 403,
}
S_ONLY = {
    "anonymous": LOGIN,
    "qs_clerk": 403,
    "cg_clerk": 403,
    "mz_user": 403,
    "ga_user": 403,
    "steward": 200,
}
API = dict.fromkeys(ROLES, 401)  # a session is no token: the API answers 401 to every browser
EVERYONE = dict.fromkeys(ROLES, 200)
GET_MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "/": ("/", dict.fromkeys(ROLES, 303)),
    "/login": ("/login", EVERYONE),
    "/clerk": ("/clerk", C_ONLY),
    "/clerk/jobs/{job_id}": ("/clerk/jobs/no-such-job", {**C_ONLY, "qs_clerk": 404, "cg_clerk": 404}),
    "/clerk/uploads/{upload_id}/columns": (
        "/clerk/uploads/20260101000000_abcdef01/columns",
        {**C_ONLY, "qs_clerk": 404, "cg_clerk": 404},
    ),
    "/clerk/submissions": ("/clerk/submissions", C_ONLY),
    "/clerk/submissions/{sid}": ("/clerk/submissions/{sid}", {**C_ONLY, "cg_clerk": 403, "steward": 200}),
    "/clerk/submissions/{sid}/annotated": (
        "/clerk/submissions/{sid}/annotated",
        {**C_ONLY, "cg_clerk": 403, "steward": 200},
    ),
    "/clerk/preview": (f"/clerk/preview?report=MZ-DIBAO&date={REF}", C_ONLY),
    "/clerk/conflicts": ("/clerk/conflicts", C_ONLY),
    "/clerk/template": ("/clerk/template", C_ONLY),
    "/clerk/flowback": ("/clerk/flowback", C_ONLY),
    "/dept": (f"/dept?date={REF}", D_ONLY),
    # a download link writes nothing: 405 for the departments (POST from their page)
    "/dept/download": (
        f"/dept/download?report=MZ-GAOLING&township={QINGSHAN}&date={REF}&purpose=跨站链接试探",
        {**D_ONLY, "mz_user": 405, "ga_user": 405},
    ),
    "/dept/tokens": ("/dept/tokens", D_ONLY),
    "/steward": ("/steward", S_ONLY),
    "/steward/schema": ("/steward/schema", S_ONLY),
    "/steward/mappings": ("/steward/mappings", S_ONLY),
    "/steward/mappings/{report_id}": ("/steward/mappings/MZ-DIBAO", S_ONLY),
    "/steward/columns": ("/steward/columns", S_ONLY),
    "/steward/access-log": ("/steward/access-log", S_ONLY),
    "/steward/access-log.csv": ("/steward/access-log.csv", S_ONLY),
    "/steward/conflicts": ("/steward/conflicts", S_ONLY),
    "/steward/submissions": ("/steward/submissions", S_ONLY),
    "/steward/review": ("/steward/review", S_ONLY),
    "/steward/validation": ("/steward/validation", {**S_ONLY, "steward": 404}),  # no report written yet
    "/steward/validation/{path:path}": ("/steward/validation/index.html", {**S_ONLY, "steward": 404}),
    "/steward/users": ("/steward/users", S_ONLY),
    "/dept/admission": ("/dept/admission", D_ONLY),
    "/dept/admission/{draft_id}": ("/dept/admission/999", {**D_ONLY, "mz_user": 404, "ga_user": 404}),
    "/steward/admission": ("/steward/admission", S_ONLY),
    "/steward/admission/{draft_id}": ("/steward/admission/999", {**S_ONLY, "steward": 404}),
    "/steward/burden": ("/steward/burden", S_ONLY),
    "/jobs/{job_id}": ("/jobs/no-such-job", {**S_ONLY, "steward": 404}),  # a steward's withdrawal job
    "/api/v1/reports": ("/api/v1/reports", API),
    "/api/v1/reports/{report_id}": (f"/api/v1/reports/MZ-DIBAO?township={QINGSHAN}&purpose=核对名单", API),
    "/api/v1/feedback": ("/api/v1/feedback", API),
    "/api/v1/changes/{report_id}": (f"/api/v1/changes/MZ-DIBAO?township={QINGSHAN}&purpose=核对名单", API),
    "/api/v1/openapi.json": ("/api/v1/openapi.json", EVERYONE),
}


def _routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route, including those of included routers."""
    out: set[tuple[str, str]] = set()
    stack = list(app.routes)
    while stack:
        route = stack.pop()
        inner = getattr(route, "original_router", None)
        if inner is not None:
            stack.extend(inner.routes)
            continue
        path = getattr(route, "path", None)
        if path is None or path.startswith("/static"):
            continue
        for method in getattr(route, "methods", None) or []:
            if method != "HEAD":
                out.add((method, path))
    return out


@pytest.fixture
def clients(loaded: Any) -> Iterator[dict[str, TestClient]]:
    out = {role: (TestClient(loaded) if role == "anonymous" else login(loaded, role)) for role in ROLES}
    yield out


def _qingshan_secrets(app: Any) -> list[str]:
    """Strings only 青山镇's data holds: its file names and ID numbers."""
    db = app.state.hub_state.hub.db
    names = [
        str(n)
        for (n,) in db.rows("SELECT file_name FROM hub_submissions WHERE township_code = ?", [QINGSHAN])
    ]
    ids = [
        str(i)
        for (i,) in db.rows(
            "SELECT DISTINCT id_number FROM hub_rows WHERE township_code = ? AND id_number IS NOT NULL "
            "ORDER BY id_number LIMIT 40",
            [QINGSHAN],
        )
    ]
    assert names and ids
    return names + ids


def test_every_route_is_in_the_matrix(loaded: Any) -> None:
    gets = {path for method, path in _routes(loaded) if method == "GET"}
    missing = gets - set(GET_MATRIX)
    assert not missing, f"routes with no line in the role matrix (add who may see them): {sorted(missing)}"


@pytest.mark.slow  # about 180 requests, some of them whole previews and workbooks
def test_every_get_route_for_every_role(loaded: Any, clients: dict[str, TestClient]) -> None:
    sid = loaded.state.hub_state.hub.db.scalar(
        "SELECT min(submission_id) FROM hub_submissions WHERE township_code = ?", [QINGSHAN]
    )
    secrets = _qingshan_secrets(loaded)
    present = {path for method, path in _routes(loaded) if method == "GET"}
    wrong = []
    for template, (url, expected) in GET_MATRIX.items():
        if template not in present:  # a page of another room not (yet) in this tree
            continue
        for role in ROLES:
            r = clients[role].get(url.format(sid=sid), follow_redirects=False)
            if r.status_code != expected[role]:
                wrong.append(f"{role} GET {url}: {r.status_code}, expected {expected[role]}")
            if role not in ("qs_clerk", "steward"):  # no GET gives anyone else 青山镇's rows
                leaked = [s for s in secrets if s in r.text]
                assert not leaked, f"{role} GET {url} shows 青山镇's data: {leaked[:3]}"
            assert "Traceback" not in r.text
    assert not wrong, "\n".join(wrong)


def test_every_post_route_refuses_without_the_csrf_token(loaded: Any, clients: dict[str, TestClient]) -> None:
    posts = sorted(path for method, path in _routes(loaded) if method == "POST")
    assert "/dept/download" in posts
    log_before = loaded.state.hub_state.hub.db.scalar("SELECT count(*) FROM hub_access_log")
    for path in posts:
        url = path.replace("{report_id}", "MZ-DIBAO").replace("{map_id}", "1").replace("{name}", "qs_clerk")
        url = url.replace("{upload_id}", "20260101000000_abcdef01").replace("{draft_id}", "1")
        url = url.replace("{departure_id}", "1").replace("{feedback_id}", "1").replace("{pair_id}", "0")
        refused = (401,) if url.startswith("/api/") else (403, 303)  # the API takes a token, never a cookie
        for role in ROLES:
            r = clients[role].post(
                url,
                data={"report": "MZ-GAOLING", "township": QINGSHAN, "purpose": "跨站提交试探"},
                follow_redirects=False,
            )
            assert r.status_code in refused, f"{role} POST {url} without CSRF: {r.status_code}"
    assert loaded.state.hub_state.hub.db.scalar("SELECT count(*) FROM hub_access_log") == log_before


def test_departments_see_only_their_own_reports_through_every_door(
    loaded: Any, clients: dict[str, TestClient]
) -> None:
    from tests.serve.conftest import page_csrf

    ga = clients["ga_user"]
    r = ga.post(
        "/dept/download",
        data={
            "report": "MZ-DIBAO",
            "township": QINGSHAN,
            "date": REF,
            "purpose": "核对实有人口",
            "csrf_token": page_csrf(ga, "/dept"),
        },
    )
    assert r.status_code == 403 and "民政" in r.text
    page = ga.get(f"/dept?date={REF}").text
    assert "MZ-DIBAO" not in page and "GA-SYRK" in page

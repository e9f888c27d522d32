"""回流 and feedback on the web: a department posts feedback through the API, 青山镇's clerk sees it
with the residents her November roster left out (待核实), the marital status 城关街道 gave for one of
her residents and answers on the page; the other township's clerk sees none of it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.exchange.rosters import month_rosters, person_id
from tests.serve.conftest import CHENGGUAN, QINGSHAN, _app, _workspace, login, page_csrf
from tests.serve.test_dept_api import token_for


def build_exchange_home(home: Path) -> Path:
    """Divisions and accounts; 城关街道's roster, then 青山镇's October and November rosters (no
    linkage: a tiny store), merged."""
    from hub.facade import Hub

    _workspace(home, [])
    files = month_rosters(home.parent / f"{home.name}-in")
    hub = Hub(home)
    hub.ingest([files["chengguan"]], township=CHENGGUAN, link=False, annotate=False)
    hub.ingest([files["october"]], township=QINGSHAN, link=False, annotate=False)
    hub.ingest([files["november"]], township=QINGSHAN, link=False, annotate=False)
    hub.merge()
    hub.close()
    return home


@pytest.fixture(scope="session")
def exchange_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_exchange_home(tmp_path_factory.mktemp("exchange") / "home")


@pytest.fixture
def exchange(tmp_path: Path, mappings: Path, exchange_home: Path) -> Iterator[Any]:
    yield from _app(exchange_home, tmp_path / "home")


def _code(app: Any, n: int) -> str:
    return str(
        app.state.hub_state.hub.db.scalar(
            "SELECT person_code FROM hub_person WHERE id_number = ?", [person_id(n)]
        )
    )


@pytest.mark.slow  # builds its own store (three rosters, a merge) and merges again
def test_feedback_reaches_the_clerk_who_answers_it(exchange: Any) -> None:
    api = TestClient(exchange)
    auth = {"Authorization": f"Bearer {token_for(exchange, 'mz_user')}"}
    posted = api.post(
        "/api/v1/feedback",
        json={"record": _code(exchange, 3), "field": "联系电话", "message": "电话已停机"},
        headers=auth,
    )
    assert posted.status_code == 201, posted.text
    item = posted.json()
    assert (item["field"], item["department"], item["status"], item["township_code"]) == (
        "phone",
        "民政",
        "待答复",
        QINGSHAN,
    )

    qs = login(exchange, "qs_clerk")
    page = qs.get("/clerk/flowback")
    assert page.status_code == 200
    assert "电话已停机" in page.text and "居民003" in page.text
    assert "居民002" in page.text and "居民005" in page.text  # 待核实
    assert "已婚" in page.text and "城关街道" in page.text  # 回流: 城关街道's value for resident 4
    assert "城关街道流动人口登记2026.csv" not in page.text  # never another township's file name

    cg = login(exchange, "cg_clerk").get("/clerk/flowback")
    assert cg.status_code == 200 and "电话已停机" not in cg.text and "居民002" not in cg.text

    # the other township's clerk cannot answer it; her own clerk can
    other = login(exchange, "cg_clerk")
    refused = other.post(
        f"/clerk/feedback/{item['feedback_id']}/answer",
        data={"answer": "已更正", "csrf_token": page_csrf(other, "/clerk/flowback")},
    )
    assert refused.status_code == 400 and "没有编号为" in refused.text
    done = qs.post(
        f"/clerk/feedback/{item['feedback_id']}/answer",
        data={"answer": "已更正", "note": "已改为新号码", "csrf_token": page_csrf(qs, "/clerk/flowback")},
    )
    assert done.status_code == 200 and "已记录答复" in done.text and "电话已停机" not in done.text
    mine = api.get("/api/v1/feedback", headers=auth).json()
    assert [(f["status"], f["answers"][0]["by"], f["answers"][0]["note"]) for f in mine] == [
        ("已更正", "qs_clerk", "已改为新号码")
    ]
    assert (
        api.get(
            "/api/v1/feedback", headers={"Authorization": f"Bearer {token_for(exchange, 'ga_user')}"}
        ).json()
        == []
    )


def test_feedback_api_refuses_bad_input_in_chinese(loaded: Any) -> None:
    exchange = loaded  # the seeded store the other web tests share: no store of its own
    api = TestClient(exchange)
    auth = {"Authorization": f"Bearer {token_for(exchange, 'mz_user')}"}
    code = str(exchange.state.hub_state.hub.db.scalar("SELECT min(person_code) FROM hub_person"))
    unknown = api.post("/api/v1/feedback", json={"record": "P999999999", "message": "查无此人"}, headers=auth)
    assert unknown.status_code == 400 and unknown.json()["error"] == "record-unknown"
    field = api.post("/api/v1/feedback", json={"record": code, "field": "鞋码", "message": "x"}, headers=auth)
    assert field.status_code == 400 and "没有名为“鞋码”的字段" in field.json()["message"]
    empty = api.post("/api/v1/feedback", json={"record": code, "message": "  "}, headers=auth)
    session = login(exchange, "qs_clerk")  # a clerk's session is no token
    assert session.post("/api/v1/feedback", json={"record": code, "message": "x"}).status_code == 401
    assert empty.status_code == 400 and empty.json()["error"] == "message-required"
    assert api.post("/api/v1/feedback", json={"record": "P000000001", "message": "x"}).status_code == 401


@pytest.mark.slow  # builds its own store (three rosters, a merge) and merges again
def test_clerk_answers_a_departure_and_the_reports_follow(exchange: Any) -> None:
    qs = login(exchange, "qs_clerk")
    hub = exchange.state.hub_state.hub
    (d,) = [
        d
        for d in qs.get("/clerk/flowback", headers={"Accept": "application/json"}).json()["departures"]
        if d["name"] == "居民005"
    ]
    assert person_id(5) in {r[0] for r in hub.db.rows("SELECT id_number FROM hub_person")}
    done = qs.post(
        f"/clerk/departures/{d['departure_id']}/answer",
        data={"answer": "死亡", "note": "11月3日去世", "csrf_token": page_csrf(qs, "/clerk/flowback")},
    )
    assert done.status_code == 200 and "已记录答复" in done.text
    assert person_id(5) not in {r[0] for r in hub.db.rows("SELECT id_number FROM hub_person")}
    wrong = qs.post(
        f"/clerk/departures/{d['departure_id']}/answer",
        data={"answer": "搬家", "csrf_token": page_csrf(qs, "/clerk/flowback")},
    )
    assert wrong.status_code == 400 and "核实结果只能是" in wrong.text


@pytest.mark.slow  # builds its own store (three rosters, a merge) and merges again
def test_the_template_carries_what_flows_back(exchange: Any) -> None:
    body = login(exchange, "qs_clerk").get("/clerk/template").content
    ws = openpyxl.load_workbook(io.BytesIO(body))["回流与核实"]
    lines = [tuple(c or "" for c in row) for row in ws.iter_rows(min_row=3, values_only=True)]
    kinds = {line[0] for line in lines}
    assert {"待核实", "其他乡镇登记"} <= kinds
    assert any(line[0] == "其他乡镇登记" and line[4] == "已婚" and "城关街道" in line[5] for line in lines)
    assert all("城关街道流动人口登记" not in " ".join(map(str, line)) for line in lines)


@pytest.mark.slow  # builds its own store (three rosters, a merge) and merges again
def test_resubmission_upload_job_says_what_changed(exchange: Any, tmp_path: Path) -> None:
    from tests.exchange.rosters import DECEMBER, person, write_roster
    from tests.serve.conftest import upload

    roster = write_roster(tmp_path / DECEMBER, [person(n) for n in (1, 3, 4, 6, 7, 8)])
    qs = login(exchange, "qs_clerk")
    job = upload(qs, roster)
    (report,) = job["reports"]
    assert report["resubmission"]["superseded"][0]["file"] == "青山镇人口花名册2026年11月.csv"
    page = qs.get(job["id"] and f"/clerk/jobs/{job['id']}")
    assert "本次报送取代了 青山镇人口花名册2026年11月.csv" in page.text and "去核实" in page.text

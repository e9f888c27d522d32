"""The clerk's column step over HTTP: a ledger the hub cannot place surely is held whole, the job
page asks for its columns with the hub's guesses preselected, the confirmation re-ingests the same
stored upload and is remembered for the township, and the steward reads (and switches off) the
remembered mappings. Only the township's own clerk may confirm."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from hub.serve.columns import preselected
from hub.synth.checkdigits import make_uscc, uscc_is_valid
from tests.serve.conftest import QINGSHAN, login, page_csrf, upload

HEADERS = ["商号", "号码", "经营者", "所在村", "联系电话"]
# A shop register whose name column is headed 商号 and holds shop names and, for the individual
# businesses without a trade name, the operator's own name: the hub is not sure it is 名称.
FIRST = [
    ("老王五金店", "王建国"),
    ("便民超市", "李秀英"),
    ("李记小吃", "李明"),
    ("张三理发店", "张三"),
    ("青山农资店", "陈静"),
    ("王建国", "王建国"),
    ("李秀英", "李秀英"),
    ("张伟", "张伟"),
]
SECOND = [
    ("新华书店", "刘洋"),
    ("好又多超市", "杨帆"),
    ("刘记面馆", "刘强"),
    ("赵磊", "赵磊"),
    ("周敏", "周敏"),
]


def shop_ledger(path: Path, shops: list[tuple[str, str]], start: int = 1) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "商户"
    ws.append(HEADERS)
    for i, (name, operator) in enumerate(shops):
        uscc = make_uscc("92", "331099", f"{start + i:09d}")
        assert uscc_is_valid(uscc)
        ws.append([name, uscc, operator, "青山村", f"138{start + i:08d}"])
    wb.save(path)
    return path


@pytest.fixture
def held_file(tmp_path: Path) -> Path:
    return shop_ledger(tmp_path / "青山镇_个体工商户登记.xlsx", FIRST)


def hub_of(app: Any) -> Any:
    return app.state.hub_state.hub


def wait_job(c: TestClient, url: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(url, headers={"Accept": "application/json"}).json()
        if job["status"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def choices(sheet: dict[str, Any], **override: str) -> dict[str, Any]:
    """The form as the clerk sends it: every column's guess, headers in ``override`` changed."""
    data: dict[str, Any] = {"layout": sheet["layout"]}
    for col in sheet["columns"]:
        data[f"col-{sheet['layout']}-{col['col_index']}"] = override.get(
            col["header"], preselected(col) or ""
        )
    return data


def held_upload(app: Any, held_file: Path) -> tuple[TestClient, dict[str, Any], dict[str, Any]]:
    """The clerk uploads the held ledger; returns the client, the job and the file's report."""
    c = login(app, "qs_clerk")
    job = upload(c, held_file)
    assert job["status"] == "done", job
    return c, job, job["reports"][0]


def test_the_ledger_is_actually_held(app: Any, held_file: Path) -> None:
    guesses = hub_of(app).column_guesses(held_file, township=QINGSHAN)
    (sheet,) = guesses["sheets"]
    assert sheet["held"] and sheet["rows"] == len(FIRST)
    name = next(c for c in sheet["columns"] if c["header"] == "商号")
    assert preselected(name) == "business_name" and not name["sure"]  # the guess, to confirm
    number = next(c for c in sheet["columns"] if c["header"] == "号码")
    assert number["field"] == "uscc"


def test_held_upload_shows_the_column_step_with_the_guesses(app: Any, held_file: Path) -> None:
    c, job, rep = held_upload(app, held_file)
    assert rep["status"] == "held" and rep["name"] == held_file.name
    assert rep["rows"] == rep["held"] == len(FIRST) and rep["accepted"] == rep["rejected"] == 0
    assert rep["rows"] == rep["accepted"] + rep["rejected"] + rep["held"]
    assert job["totals"] == {"rows": len(FIRST), "accepted": 0, "rejected": 0, "held": len(FIRST)}
    assert re.fullmatch(r"\d{14}_[0-9a-f]{8}", rep["upload"])
    assert hub_of(app).db.scalar("SELECT count(*) FROM hub_submissions") == 0  # nothing stored
    (sheet,) = rep["held_sheets"]
    page = c.get(f"/clerk/jobs/{job['id']}").text
    assert "待确认列" in page and "确认各列" in page and "确认并导入" in page
    assert f'id="n-rows">{len(FIRST)}<' in page and f'id="n-held">{len(FIRST)}<' in page
    assert f'action="/clerk/uploads/{rep["upload"]}/columns"' in page
    assert str(hub_of(app).home) not in page  # the stored copy's path is never shown
    layout = sheet["layout"]
    for col in sheet["columns"]:
        select = re.search(rf'<select name="col-{layout}-{col["col_index"]}".*?</select>', page, re.S)
        assert select, col
        picked = re.findall(r'<option value="([^"]*)" selected>', select.group(0))
        assert picked == [preselected(col) or ""], (col, picked)
        assert "不入库" in select.group(0) and "公民身份号码（id_number）" in select.group(0)
    # the unsure column is highlighted and asked; the sure ones are shown too
    assert page.count('<tr class="unsure"') == 1 and page.count('<tr class="sure"') == len(HEADERS) - 1
    unsure = re.search(r'<tr class="unsure" data-col="A">.*?</tr>', page, re.S)
    assert unsure and "请确认" in unsure.group(0) and "老王五金店" in unsure.group(0)
    name = next(c for c in sheet["columns"] if c["header"] == "商号")
    assert f">{round(name['confidence'] * 100)}%<" in unsure.group(0)
    assert str(escape(name["evidence"])) in unsure.group(0)
    # the same step stands on its own page (after a restart the job is gone, the upload is not)
    alone = c.get(f"/clerk/uploads/{rep['upload']}/columns")
    assert (
        alone.status_code == 200 and "确认各列" in alone.text and f'id="n-held">{len(FIRST)}<' in alone.text
    )


def test_confirmation_ingests_the_upload_and_is_remembered(app: Any, held_file: Path, tmp_path: Path) -> None:
    c, job, rep = held_upload(app, held_file)
    (sheet,) = rep["held_sheets"]
    token = page_csrf(c, f"/clerk/jobs/{job['id']}")
    r = c.post(
        f"/clerk/uploads/{rep['upload']}/columns",
        data={"csrf_token": token, **choices(sheet, 商号="business_name")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/clerk/jobs/")
    done = wait_job(c, r.headers["location"])
    assert done["status"] == "done" and done["confirmed"], done
    (again,) = done["reports"]
    assert again["status"] == "ingested" and again["name"] == held_file.name
    assert again["accepted"] == len(FIRST) and again["held"] == 0
    assert again["rows"] == again["accepted"] + again["rejected"] + again["held"]
    page = c.get(r.headers["location"]).text
    assert "已按您确认的各列重新导入" in page and f'id="n-accepted">{len(FIRST)}<' in page
    assert "查看问题" in page and "确认并导入" not in page
    hub = hub_of(app)
    sub = hub.db.dicts("SELECT * FROM hub_submissions WHERE submission_id = ?", [again["submission_id"]])[0]
    assert sub["file_name"] == held_file.name and sub["township_code"] == QINGSHAN
    assert sub["submitted_by"] == "qs_clerk" and sub["kind"] == "business"

    from hub.ingest.columns.memory import history

    (kept,) = history(hub.db)
    assert kept["active"] and kept["confirmed_by"] == "qs_clerk" and kept["township_code"] == QINGSHAN
    assert kept["layout"] == sheet["layout"] and kept["headers"] == HEADERS
    assert kept["mapping"]["商号"] == "business_name" and kept["mapping"]["号码"] == "uscc"

    # the next ledger of the same layout (other shops, as unsure on its own) goes straight through
    second = shop_ledger(tmp_path / "青山镇_个体工商户登记_12月.xlsx", SECOND, start=40)
    guess = hub.column_guesses(second, township=QINGSHAN)["sheets"][0]
    assert not guess["held"] and {c["source"] for c in guess["columns"]} == {"remembered"}
    job2 = upload(c, second)
    (rep2,) = job2["reports"]
    assert rep2["status"] == "ingested" and rep2["accepted"] == len(SECOND) and rep2["held"] == 0
    assert "确认并导入" not in c.get(f"/clerk/jobs/{job2['id']}").text

    # the steward reads the mapping, its history, and can switch it off
    s = login(app, "steward")
    assert "/steward/columns" in s.get("/steward").text
    listing = s.get("/steward/columns")
    assert listing.status_code == 200
    row = re.search(rf'<tr class="map-active" data-map="{kept["map_id"]}">.*?</tr>', listing.text, re.S)
    assert row, listing.text
    for text in (
        "青山镇",
        "商号 → 名称（business_name）",
        "号码 → 统一社会信用代码（uscc）",
        "qs_clerk",
        held_file.name,
        "在用",
        "停用",
    ):
        assert text in row.group(0), text
    assert s.get("/steward/columns", params={"township": "331099001"}).text.count('<tr class="map-') == 0
    off = s.post(
        f"/steward/columns/{kept['map_id']}/deactivate",
        data={"csrf_token": page_csrf(s, "/steward/columns")},
    )
    assert off.status_code == 200 and "已停用" in off.text and "map-off" in off.text
    assert hub.column_mappings(QINGSHAN) == {}
    assert hub.column_guesses(second, township=QINGSHAN)["sheets"][0]["held"]  # asked again
    assert (
        s.post(
            "/steward/columns/999/deactivate", data={"csrf_token": page_csrf(s, "/steward/columns")}
        ).status_code
        == 404
    )


def test_bad_field_is_refused_and_a_field_twice_is_sent_back(app: Any, held_file: Path) -> None:
    c, job, rep = held_upload(app, held_file)
    (sheet,) = rep["held_sheets"]
    url = f"/clerk/uploads/{rep['upload']}/columns"
    token = page_csrf(c, f"/clerk/jobs/{job['id']}")
    bad = c.post(url, data={"csrf_token": token, **choices(sheet, 商号="shop_name'; DROP TABLE x")})
    assert bad.status_code == 400 and "不是标准字段" in bad.text and "Traceback" not in bad.text
    twice = c.post(url, data={"csrf_token": token, **choices(sheet, 商号="operator_name")})
    assert twice.status_code == 400 and 'id="column-problems"' in twice.text
    assert "A列“商号”、C列“经营者”都选了“经营者”" in twice.text
    select = re.search(rf'<select name="col-{sheet["layout"]}-1".*?</select>', twice.text, re.S)
    assert select and re.findall(r'<option value="([^"]*)" selected>', select.group(0)) == ["operator_name"]
    stale = c.post(url, data={"csrf_token": token, "layout": "0123456789abcdef"})
    assert stale.status_code == 400 and "对不上" in stale.text
    json_bad = c.post(
        url,
        data={"csrf_token": token, **choices(sheet, 号码="nope")},
        headers={"Accept": "application/json"},
    )
    assert json_bad.status_code == 400 and json_bad.json()["error"] == "bad-field"
    hub = hub_of(app)
    assert hub.db.scalar("SELECT count(*) FROM hub_submissions") == 0
    assert hub.db.scalar("SELECT count(*) FROM hub_column_maps") == 0


def test_only_the_townships_clerk_may_confirm(app: Any, held_file: Path) -> None:
    c, job, rep = held_upload(app, held_file)
    (sheet,) = rep["held_sheets"]
    url = f"/clerk/uploads/{rep['upload']}/columns"
    form = choices(sheet, 商号="business_name")
    assert c.post(url, data=form).status_code == 403  # no CSRF token
    dept = login(app, "mz_user")
    r = dept.post(url, data={"csrf_token": page_csrf(dept, "/dept"), **form})
    assert r.status_code == 403
    other = login(app, "cg_clerk")
    r = other.post(url, data={"csrf_token": page_csrf(other, "/clerk"), **form})
    assert r.status_code == 404 and "找不到" in r.text
    assert other.get(url).status_code == 404
    assert other.get(f"/clerk/jobs/{job['id']}").status_code == 404
    steward = login(app, "steward")
    assert steward.post(url, data={"csrf_token": page_csrf(steward, "/steward"), **form}).status_code == 403
    assert c.get("/steward/columns").status_code == 403
    for bad_id in ("..", "x" * 23, "20260101000000_zzzzzzzz"):
        assert c.get(f"/clerk/uploads/{bad_id}/columns").status_code == 404
    hub = hub_of(app)
    assert hub.db.scalar("SELECT count(*) FROM hub_submissions") == 0
    assert hub.db.scalar("SELECT count(*) FROM hub_column_maps") == 0


def test_an_unsure_column_of_an_ingested_ledger_is_named_on_the_result(app: Any, tmp_path: Path) -> None:
    """A file whose identity columns are sure goes in; a column the hub is unsure of is left out
    (its cells stay in the raw rows) and the result page says which one."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "商户"
    ws.append(["名称", "统一社会信用代码", "经营者", "村", "联络"])
    contact = [
        "13800000001",
        "13800000002",
        "13800000003",
        "13800000004",
        "13800000005",
        "微信",
        "见备注",
        "无座机",
    ]
    for i, (shop, operator) in enumerate(FIRST[:5] + SECOND[:3]):
        ws.append(
            [
                shop if i < 5 else f"{shop}商店",
                make_uscc("92", "331099", f"{70 + i:09d}"),
                operator,
                "青山村",
                contact[i],
            ]
        )
    path = tmp_path / "青山镇_商户_联络.xlsx"
    wb.save(path)
    c = login(app, "qs_clerk")
    job = upload(c, path)
    (rep,) = job["reports"]
    assert rep["status"] == "ingested" and rep["accepted"] == 8 and rep["held"] == 0
    (held,) = rep["held_columns"]
    assert held["header"] == "联络" and held["guess"] == "phone"
    page = c.get(f"/clerk/jobs/{job['id']}").text
    assert 'class="held-columns"' in page and "E列“联络”像“联系电话”" in page and "没有导入这些列" in page
    assert "确认并导入" not in page

"""The changes feed (issue 12 item 3): a department that pulls a report at version A and applies the
changes A→B holds exactly the report at B — after new rows, a changed value, a death and a
withdrawal; through the CLI and through the API. Pulls of one version are the same bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from hub.paths import REPO_ROOT
from tests.conftest import Cli
from tests.exchange.feed_data import PEOPLE, REF, TOWN, apply, full, ledgers, rows_of

REPORT = "WJ-ELDERLY65"  # two sheets: a list of persons and a table by village
POP = "GA-SYRK"  # county-wide, one sheet
DIVISIONS = REPO_ROOT / "sample_data" / "divisions.csv"


def _names(state: dict[tuple[str, str], list[dict[str, Any]]]) -> set[str]:
    return {str(r["姓名"]) for (s, _), rows in state.items() if s == "名单" for r in rows}


def _removed(feed: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["sheet"], r["reason"]) for r in feed["removed"]]


@pytest.mark.slow
def test_cli_changes_replayed_on_the_last_pull_give_the_current_report(cli: Cli, tmp_path: Path) -> None:
    files = ledgers(tmp_path / "ledgers")
    assert cli("divisions", "load", DIVISIONS).exit_code == 0

    def ingest(key: str) -> int:
        town = "城关街道" if key == "moved" else "青山镇"
        reports, code = cli.json("ingest", files[key], "--township", town, "--no-link", "--no-annotate")
        assert code == 0
        return int(reports[0]["submission_id"])

    def pull(since: str | None = None) -> dict[str, Any]:
        args = ["changes", "--report", REPORT, "--township", TOWN, "--date", REF, "--json"]
        feed, code = cli.json(*args, *(["--since", since] if since else []))
        assert code == 0
        return dict(feed)

    ingest("first")
    state = full(pull())
    assert _names(state) == {"王建国", "李秀英", "张德明"}  # 陈小红 is not 65
    cursor = pull()["cursor"]

    ids: dict[str, int] = {}
    for step in ("newcomer", "phone", "death", "moved", "withdraw"):
        if step == "withdraw":
            done = cli("withdraw", str(ids["newcomer"]), "--reason", "重复报送", "--by", "张三")
            assert done.exit_code == 0, done.output
        else:
            ids[step] = ingest(step)
        feed = pull(cursor)
        assert feed["since"] == cursor and feed["to_version"] > feed["from_version"]
        state = apply(state, feed)
        latest = pull()
        assert state == full(latest), step
        assert feed["cursor"] == latest["cursor"] != cursor
        cursor = feed["cursor"]
        if step == "newcomer":
            assert [r["rows"][0]["姓名"] for r in feed["added"] if r["sheet"] == "名单"] == ["赵桂兰"]
        if step == "phone":
            [item] = [c for c in feed["changed"] if c["sheet"] == "名单"]
            assert item["fields"] == [
                {"row": 1, "field": "联系电话", "old": "13800000001", "new": "13900000009"}
            ]
            assert not feed["added"] and not feed["removed"]
        if step == "death":
            assert ("名单", "死亡") in _removed(feed)
            [dead] = [r for r in feed["removed"] if r["sheet"] == "名单"]
            assert dead["detail"] == "死亡日期 2026-10-01"
            assert "李秀英" not in _names(state)
        if step == "moved":
            [moved] = [r for r in feed["removed"] if r["sheet"] == "名单"]
            assert moved["reason"] == "迁出" and "城关街道" in moved["detail"]
        if step == "withdraw":
            assert ("名单", "撤回") in _removed(feed)
            assert "重复报送" in feed["removed"][0]["detail"]
            assert _names(state) == {"王建国"}

    # the department's records are the names of the file `hub export` writes, opened as a clerk would
    out = tmp_path / "export"
    result = cli("export", "--report", REPORT, "--township", TOWN, "--date", REF, "--out", out, "--json")
    [item] = json.loads(result.stdout)
    wb = openpyxl.load_workbook(item["path"], read_only=True)
    cells = {str(v) for row in wb["名单"].iter_rows(values_only=True) for v in row if v}
    wb.close()
    assert _names(state) <= cells and not ({n for n in PEOPLE} - _names(state)) & cells

    # nothing changed: an empty pull that keeps the cursor's data; the text form names the next cursor
    again = cli("changes", "--report", REPORT, "--township", "青山镇", "--date", REF, "--since", cursor)
    assert again.exit_code == 0 and "新增 0，变更 0，移出 0" in again.output and "--since" in again.output

    bad = cli("changes", "--report", REPORT, "--township", TOWN, "--since", "99.20261130.0123456789")
    assert bad.exit_code == 1 and "游标" in bad.output and "Traceback" not in bad.output
    logged = cli.json("status")  # the store still opens; every pull above is in the access log
    from hub.facade import Hub

    hub = Hub()
    n = hub.db.scalar("SELECT count(*) FROM hub_access_log WHERE format = 'changes' AND channel = 'cli'")
    hub.close()
    assert logged and n >= 13


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A web application over an empty workspace with a 卫健 department token."""
    from hub.facade import Hub
    from hub.serve.accounts import add_user, create_token, get_user
    from hub.serve.app import create_app

    home = tmp_path / "home"
    monkeypatch.setenv("HUB_HOME", str(home))
    hub = Hub(home)
    hub.load_divisions(DIVISIONS)
    add_user(hub.db, "wj_user", "department", dept="卫健", password="correct-horse-1")
    add_user(hub.db, "ga_user", "department", dept="公安", password="correct-horse-1")
    add_user(hub.db, "mz_user", "department", dept="民政", password="correct-horse-1")
    hub.close()
    app = create_app(home)
    hub = app.state.hub_state.hub
    tokens = {n: create_token(hub.db, get_user(hub.db, n), "test") for n in ("wj_user", "ga_user", "mz_user")}
    yield app, TestClient(app), {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}
    app.state.hub_state.jobs.shutdown()
    hub.close()


@pytest.mark.slow
def test_api_changes_replayed_on_the_full_report_give_the_full_report(api: Any, tmp_path: Path) -> None:
    """公安's county-wide population file (one sheet, so the JSON rows pull is the oracle)."""
    app, client, tokens = api
    auth, other = tokens["ga_user"], tokens["mz_user"]
    hub = app.state.hub_state.hub
    files = ledgers(tmp_path / "ledgers")
    ids: dict[str, int] = {}

    def ingest(key: str) -> None:
        [report] = hub.ingest([files[key]], township=TOWN, link=False, annotate=False)
        ids[key] = int(report.submission_id)
        hub.merge()

    def changes(since: str | None = None) -> dict[str, Any]:
        params = {"date": REF, "purpose": "实有人口信息比对"}
        r = client.get(
            f"/api/v1/changes/{POP}",
            params={**params, **({"since": since} if since else {})},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        assert r.headers["X-Hub-Cursor"] == r.json()["cursor"]
        return dict(r.json())

    def report_rows() -> list[str]:  # the existing JSON pull of the report (first sheet), 序号 aside
        r = client.get(
            f"/api/v1/reports/{POP}",
            params={"date": REF, "purpose": "实有人口信息比对", "format": "json"},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        rows = [{k: v for k, v in row.items() if k != "序号"} for row in r.json()["rows"]]
        return sorted(json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows)

    ingest("first")
    # the department's first pull is the full file; its cursor starts the feed
    params = {"date": REF, "purpose": "实有人口信息比对"}
    first = client.get(f"/api/v1/reports/{POP}", params=params, headers=auth)
    second = client.get(f"/api/v1/reports/{POP}", params=params, headers=auth)
    assert first.status_code == 200 and first.content == second.content
    assert first.headers["X-Hub-SHA256"] == second.headers["X-Hub-SHA256"]
    cursor = first.headers["X-Hub-Cursor"]
    state = full(changes())
    assert changes()["cursor"] == cursor and rows_of(state, "SYRK") == report_rows()

    for step in ("newcomer", "phone", "death", "withdraw"):
        if step == "withdraw":
            hub.withdraw(ids["newcomer"], by="张三", reason="重复报送")
        else:
            ingest(step)
        feed = changes(cursor)
        state = apply(state, feed)
        assert state == full(changes()), step
        assert rows_of(state, "SYRK") == report_rows(), step
        cursor = feed["cursor"]
        if step == "death":
            assert ("SYRK", "死亡") in _removed(feed)
        if step == "withdraw":
            assert ("SYRK", "撤回") in _removed(feed)

    # the same data gives the same file again (a new version whose data did not change)
    hub.merge()
    third = client.get(f"/api/v1/reports/{POP}", params=params, headers=auth)
    assert third.headers["X-Hub-Cursor"] != cursor
    again = client.get(f"/api/v1/reports/{POP}", params=params, headers=auth)
    assert third.content == again.content and third.headers["X-Hub-SHA256"] == again.headers["X-Hub-SHA256"]
    empty = changes(cursor)
    assert empty["counts"] == {"added": 0, "changed": 0, "removed": 0}

    bad = client.get(f"/api/v1/changes/{POP}", params={**params, "since": "garbage"}, headers=auth)
    assert (
        bad.status_code == 400 and bad.json()["error"] == "cursor-unknown" and "游标" in bad.json()["message"]
    )
    nopurpose = client.get(f"/api/v1/changes/{POP}", params={}, headers=auth)
    assert nopurpose.status_code == 400 and nopurpose.json()["error"] == "purpose-required"
    assert client.get(f"/api/v1/changes/{POP}", params=params, headers=other).status_code == 403
    assert client.get(f"/api/v1/changes/{POP}", params=params).status_code == 401

    log = hub.db.dicts("SELECT * FROM hub_access_log WHERE format = 'changes' ORDER BY access_id")
    assert log and {r["username"] for r in log} == {"ga_user"}
    assert all(r["purpose"] == "实有人口信息比对" and len(r["sha256"]) == 64 for r in log)


@pytest.mark.slow
def test_keys_reveal_no_codes_and_rows_only_the_reports_columns(api: Any, tmp_path: Path) -> None:
    app, client, tokens = api
    auth = tokens["wj_user"]
    hub = app.state.hub_state.hub
    files = ledgers(tmp_path / "ledgers")
    hub.ingest([files["first"]], township=TOWN, link=False, annotate=False)
    hub.merge()
    params = {"township": TOWN, "date": REF, "purpose": "老年人健康管理名单同步"}
    feed = client.get(f"/api/v1/changes/{REPORT}", params=params, headers=auth).json()
    codes = {c for (c,) in hub.db.rows("SELECT person_code FROM hub_person")}
    text = json.dumps(feed, ensure_ascii=False)
    assert codes and not any(c in text for c in codes)
    wb_heads = {
        "乡镇（街道）",
        "村（社区）",
        "姓名",
        "性别",
        "出生日期",
        "年龄",
        "身份证号",
        "现住址",
        "联系电话",
        "备注",
    }
    assert {k for r in feed["added"] if r["sheet"] == "名单" for row in r["rows"] for k in row} == wb_heads


def test_an_upload_in_one_township_leaves_the_other_townships_files_current(
    cli: Cli, tmp_path: Path, hub_home: Path
) -> None:
    """Data versions name the townships a merge changed: 城关街道's report stays the file it was (same
    cursor, nothing recomputed) while 青山镇 uploads, and it is what a fresh computation gives; a
    person moving between the two changes both."""
    import shutil

    from hub.exchange.cache import root as cache_root
    from tests.exchange.feed_data import HEAD, pid

    files = ledgers(tmp_path / "ledgers")
    cg = tmp_path / "ledgers" / "城关街道_人口台账.csv"
    cg.write_text(
        f"{HEAD}\n孙永福,{pid('1949-09-09', 71)},男,1949-09-09,城南社区,13800000071,正常,\n", encoding="utf-8"
    )
    assert cli("divisions", "load", DIVISIONS).exit_code == 0

    def ingest(path: Path, town: str) -> None:
        reports, code = cli.json("ingest", path, "--township", town, "--no-annotate")
        assert code == 0 and reports[0]["status"] == "ingested", reports

    def pull(town: str) -> dict[str, Any]:
        feed, code = cli.json("changes", "--report", REPORT, "--township", town, "--date", REF, "--json")
        assert code == 0, feed
        return dict(feed)

    ingest(files["first"], "青山镇")
    ingest(cg, "城关街道")
    qs, cgs = pull(TOWN), pull("331099001")
    assert _names(full(cgs)) == {"孙永福"} and _names(full(qs)) == {"王建国", "李秀英", "张德明"}
    ingest(files["newcomer"], "青山镇")
    qs2, cg2 = pull(TOWN), pull("331099001")
    assert qs2["cursor"] != qs["cursor"] and "赵桂兰" in _names(full(qs2))
    assert cg2["cursor"] == cgs["cursor"]  # 城关街道's file was not computed again
    # ... and it is what the store holds now: a copy without the cached files computes the same
    fresh = tmp_path / "fresh"
    shutil.copytree(hub_home, fresh, ignore=shutil.ignore_patterns(cache_root(hub_home).name))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(fresh))
        again = pull("331099001")

    def records(feed: dict[str, Any]) -> list[str]:  # keys are salted per store: compare the rows
        return sorted(
            json.dumps([sheet, rows], ensure_ascii=False) for (sheet, _), rows in full(feed).items()
        )

    assert again["cursor"] == cgs["cursor"] and records(again) == records(cg2)
    ingest(files["moved"], "城关街道")  # 张德明 now on 城关街道's roster too: both townships' records change
    qs3, cg3 = pull(TOWN), pull("331099001")
    assert cg3["cursor"] != cgs["cursor"] and qs3["cursor"] != qs2["cursor"]

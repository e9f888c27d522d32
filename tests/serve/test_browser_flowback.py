"""The clerk's 回流与核实 page in Debian's Chromium: 青山镇's clerk sees the residents her November
roster left out (待核实), a department's feedback and the value 城关街道 gave for one of her
residents, and answers a departure and the feedback. Screenshot in tests/artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.test_browser import ARTIFACTS, _login, page, serving  # noqa: F401 -- the browser fixture
from tests.serve.test_flowback import build_exchange_home

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path, mappings: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from hub.exchange.feedback import post_feedback
    from hub.facade import Hub
    from tests.exchange.rosters import person_id

    home = build_exchange_home(tmp_path / "home")
    hub = Hub(home)
    code = hub.db.scalar("SELECT person_code FROM hub_person WHERE id_number = ?", [person_id(3)])
    post_feedback(
        hub.db,
        hub.schema,
        record=str(code),
        field="phone",
        message="电话已停机",
        department="民政",
        by="mz_user",
    )
    hub.close()
    with serving(home) as url:
        yield url
    shutil.rmtree(home, ignore_errors=True)


def test_clerk_reads_what_flows_back_and_answers(server: str, page: Any) -> None:  # noqa: F811
    _login(page, server, "qs_clerk")
    page.wait_for_url(f"{server}/clerk")
    assert "待核实人员 2 人，部门反馈 1 条" in page.inner_text("#waiting")
    page.click("#waiting a")
    page.wait_for_selector("#departures-table")
    departures = page.inner_text("#departures-table")
    assert "居民002" in departures and "居民005" in departures
    assert "电话已停机" in page.inner_text("#feedback-table")
    values = page.inner_text("#values-table")
    assert "已婚" in values and "城关街道" in values and "居民004" in values
    page.screenshot(path=str(ARTIFACTS / "clerk_flowback.png"), full_page=True)

    row = page.locator("#departures-table tr", has_text="居民005")
    row.locator("select[name=answer]").select_option("迁出")
    row.locator("input[name=note]").fill("11月迁往城关街道")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#answered")
    assert "居民005" not in page.inner_text("#departures-table")
    assert "居民002" in page.inner_text("#departures-table")

    fb = page.locator("#feedback-table tr", has_text="电话已停机")
    fb.locator("select[name=answer]").select_option("已更正")
    fb.locator("button[type=submit]").click()
    page.wait_for_selector("#no-feedback")

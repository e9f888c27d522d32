"""The clerk's column step in Debian's Chromium: a ledger the hub is unsure of is held, the clerk
picks the field of a column in its drop-down (first a wrong one, which the page sends back with a
message), confirms, and reads the accepted rows. Screenshot: tests/artifacts/clerk_columns.png
(copied to docs/screenshots/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.serve.test_browser import ARTIFACTS, _login, page, server  # noqa: F401 -- fixtures
from tests.serve.test_columns_step import FIRST, shop_ledger

pytestmark = pytest.mark.browser


def test_clerk_confirms_the_columns_of_a_held_ledger(server: str, page: Any, tmp_path: Path) -> None:  # noqa: F811
    ledger = shop_ledger(tmp_path / "青山镇_个体工商户登记.xlsx", FIRST)
    _login(page, server, "qs_clerk")
    page.wait_for_url(f"{server}/clerk")
    page.set_input_files("#files", str(ledger))
    page.click("#send")
    page.wait_for_url("**/clerk/jobs/**")
    page.wait_for_selector("text=处理完毕", timeout=120_000)
    assert "待确认列" in page.inner_text("#job-files")
    assert page.inner_text("#n-held") == str(len(FIRST)) and page.inner_text("#n-accepted") == "0"
    unsure = page.locator("table.columns tr.unsure")
    assert unsure.count() == 1 and "商号" in unsure.inner_text() and "请确认" in unsure.inner_text()
    choice = unsure.locator("select")
    assert choice.input_value() == "business_name"  # the hub's guess, preselected
    page.locator("table.columns tr.unsure").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "clerk_columns.png"), full_page=True)

    choice.select_option("operator_name")  # a slip: 经营者 is already the C column's
    page.click("button.confirm")
    page.wait_for_selector("#column-problems")
    assert "都选了“经营者”" in page.inner_text("#column-problems")
    again = page.locator("table.columns tr.unsure select")
    assert again.input_value() == "operator_name"  # the clerk's choice is kept on the form
    again.select_option(label="名称（business_name）")
    page.click("button.confirm")
    page.wait_for_url("**/clerk/jobs/**")
    page.wait_for_selector("text=处理完毕", timeout=120_000)
    assert "已按您确认的各列重新导入" in page.inner_text("#confirmed")
    assert page.inner_text("#n-accepted") == str(len(FIRST)) and page.inner_text("#n-held") == "0"
    assert "已导入" in page.inner_text("#job-files") and page.locator("table.columns").count() == 0
    page.screenshot(path=str(ARTIFACTS / "clerk_columns_done.png"), full_page=True)

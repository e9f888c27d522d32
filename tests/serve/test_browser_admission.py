"""Report admission in Debian's Chromium, both sides: 民政 submits its own xlsx template (a title,
a header row, two example rows) and reads the review column by column; the steward reads the same
review, admits it with a reason, and finds it in the registry and the burden ledger; 民政 then
downloads the admitted report, written like every other. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from hub.paths import REPO_ROOT
from tests.serve import test_browser
from tests.serve.test_browser import ARTIFACTS, _login

# the journeys' own fixtures: a server over the seeded store, a Chromium page
server, page = test_browser.server, test_browser.page

pytestmark = pytest.mark.browser
HEADERS = ["序号", "村（社区）", "姓名", "性别", "身份证号", "年龄", "联系电话", "走访日期", "走访人", "备注"]


@pytest.fixture(autouse=True)
def schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of schemas/ (admission adds the report's entitlement there)."""
    from hub.export.catalog import load_entitlements

    target = tmp_path / "schemas"
    shutil.copytree(REPO_ROOT / "schemas", target)
    monkeypatch.setenv("HUB_SCHEMAS", str(target))
    load_entitlements.cache_clear()
    return target


def _template(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "走访登记"
    ws.append(["高龄老人走访慰问登记表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws.append(["填报单位：　　　乡镇人民政府"])
    ws.append(HEADERS)
    ws.append(
        [1, "上塘村", "张桂英", "女", "331099193403120024", 92, "13857112345", "2026-11-05", "李明", ""]
    )
    ws.append(
        [2, "下溪村", "王德福", "男", "331099194108150017", 85, "13957154321", "2026-11-06", "李明", ""]
    )
    wb.save(path)
    return path


def test_department_submits_and_steward_admits(
    server: str,  # noqa: F811
    page: Any,  # noqa: F811
    tmp_path: Path,
    mappings: Path,
) -> None:
    _login(page, server, "mz_user")
    page.wait_for_url(f"{server}/dept")
    page.click("text=报表准入")
    page.set_input_files("input[name=draft]", str(_template(tmp_path / "高龄老人走访慰问登记表.xlsx")))
    page.select_option("select[name=period]", "monthly")
    page.click("#draft-form button[type=submit]")
    page.wait_for_selector("#columns")
    rows = page.locator("#columns tbody tr")
    assert rows.count() == len(HEADERS)
    text = {h: rows.nth(i).inner_text() for i, h in enumerate(HEADERS)}
    assert "台账可直接生成" in text["姓名"] and "p.name" in text["姓名"]
    assert "需确认口径" in text["年龄"] and "周岁" in text["年龄"]
    assert "新增采集字段" in text["走访日期"] and "新增采集字段" in text["走访人"]
    assert "WJ-ELDERLY65" in text["身份证号"]  # already delivered by another report
    assert "对象：80周岁及以上高龄老人" in page.inner_text("body")  # the population, from the title
    assert page.locator("#burden tbody tr").count() >= 2  # 青山镇 and the county
    page.screenshot(path=str(ARTIFACTS / "dept_admission_review.png"), full_page=True)
    draft_url = page.url
    draft_id = draft_url.rstrip("/").rsplit("/", 1)[-1]

    page.context.clear_cookies()
    _login(page, server, "steward")
    page.goto(f"{server}/steward/admission")
    page.click(f"#drafts a[href='/steward/admission/{draft_id}']")
    page.wait_for_selector("#decide-form")
    page.select_option("select[name=decision]", "admit")
    page.fill("input[name=reason]", "走访记录为新增慰问考核要求，其余栏目由台账生成")
    page.click("#decide-form button[type=submit]")
    page.wait_for_selector("#decisions")
    assert page.inner_text("#status") == "已准入"
    assert "走访记录为新增慰问考核要求" in page.inner_text("#decisions")
    page.screenshot(path=str(ARTIFACTS / "steward_admission_decided.png"), full_page=True)
    report_id = next(p.stem for p in mappings.glob("MZ-D*.yaml"))
    page.goto(f"{server}/steward/admission")
    assert report_id in page.inner_text("#registry")
    page.goto(f"{server}/steward/burden")
    assert "高龄老人走访慰问登记表" in page.inner_text("#prevented")
    page.screenshot(path=str(ARTIFACTS / "steward_burden.png"), full_page=True)

    page.context.clear_cookies()
    _login(page, server, "mz_user")
    page.goto(f"{server}/dept?date=2026-11-30")
    form = (
        page.locator("form[action='/dept/download']")
        .filter(has=page.locator(f"input[name=report][value={report_id}]"))
        .filter(has=page.locator("input[name=township][value='331099101']"))
    )
    form.locator("input[name=purpose]").fill("2026年11月高龄老人走访核对")
    with page.expect_download() as info:
        form.locator("button").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(str(target))
    ws = openpyxl.load_workbook(target).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    head = next(i for i, r in enumerate(values) if r[0] == "序号")
    assert values[head] == HEADERS
    assert any(isinstance(r[0], int) and r[2] for r in values[head + 1 :])  # names from the ledger
    page.goto(f"{server}/dept/admission")
    assert "已准入" in page.inner_text("body")

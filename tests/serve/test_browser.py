"""The journeys in Debian's Chromium (Playwright never downloads a browser):
a clerk uploads a messy ledger and reads its errors, a department downloads a report,
a steward previews and publishes a mapping change and decides a review pair. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.paths import REPO_ROOT
from tests.serve.conftest import PASSWORD, SAMPLE

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def serving(home: Path) -> Iterator[str]:
    """The web application over ``home`` on a free loopback port, in a thread; yields its address."""
    import uvicorn

    from hub.serve.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(home), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture
def server(tmp_path: Path, mappings: Path, seeded_home: Path) -> Iterator[str]:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    with serving(home) as url:
        yield url


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make browser-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            accept_downloads=True,
            locale="zh-CN",
            viewport={"width": 1366, "height": 900},
        )
        yield ctx.new_page()
        ctx.close()


def _login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_clerk_uploads_a_messy_ledger_and_reads_its_errors(server: str, page: Any) -> None:
    _login(page, server, "cg_clerk")
    page.wait_for_url(f"{server}/clerk")
    page.set_input_files("#files", str(SAMPLE / "城关街道_人口台账_2026.xlsx"))
    assert "城关街道_人口台账_2026.xlsx" in page.inner_text("#chosen")
    page.screenshot(path=str(ARTIFACTS / "clerk_upload.png"), full_page=True)
    page.click("#send")
    page.wait_for_url("**/clerk/jobs/**")
    page.wait_for_selector("text=处理完毕", timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "clerk_job.png"), full_page=True)
    page.click("text=查看问题")
    page.wait_for_selector("#findings")
    rows = page.locator("#findings tbody tr")
    total = rows.count()
    assert total > 0 and int(page.inner_text("#n-rejected")) > 0
    page.fill("#q", "校验位")
    visible = page.locator("#findings tbody tr:visible").count()
    assert 0 < visible < total
    page.screenshot(path=str(ARTIFACTS / "clerk_result.png"), full_page=True)


def test_department_downloads_a_report(server: str, page: Any) -> None:
    _login(page, server, "mz_user")
    page.goto(f"{server}/dept?date=2026-11-30")
    form = (
        page.locator("form[action='/dept/download']")
        .filter(has=page.locator("input[name=report][value=MZ-GAOLING]"))
        .filter(has=page.locator("input[name=township][value='331099101']"))
    )
    form.locator("input[name=purpose]").fill("2026年11月高龄津贴发放核对")
    page.screenshot(path=str(ARTIFACTS / "dept_reports.png"), full_page=True)
    with page.expect_download() as info:
        form.locator("button").click()
    download = info.value
    target = ARTIFACTS / download.suggested_filename
    download.save_as(str(target))
    assert target.suffix == ".xlsx" and target.read_bytes()[:2] == b"PK" and "MZ-GAOLING" in target.name
    page.goto(f"{server}/dept")
    assert "2026年11月高龄津贴发放核对" in page.inner_text("body")


def test_steward_previews_and_publishes_a_mapping_change(server: str, page: Any, mappings: Path) -> None:
    _login(page, server, "steward")
    page.goto(f"{server}/steward/mappings/MZ-GAOLING")
    text = page.input_value("#spec-text")
    page.fill("#spec-text", text.replace("- [80-89周岁, 80, 89, 60]", "- [80-89周岁, 80, 89, 75]"))
    page.fill("input[name=date]", "2026-11-30")
    page.click("button[value=preview]")
    page.wait_for_selector("#diffs")
    assert "80-89周岁/金额（元）" in page.inner_text("#diffs")
    page.screenshot(path=str(ARTIFACTS / "steward_preview.png"), full_page=True)
    page.click("#publish")
    page.wait_for_selector("#message")
    assert "已发布为第 2 版" in page.inner_text("#message")
    assert "- [80-89周岁, 80, 89, 75]" in (mappings / "MZ-GAOLING.yaml").read_text(encoding="utf-8")
    page.screenshot(path=str(ARTIFACTS / "steward_published.png"), full_page=True)


def test_steward_decides_a_review_pair(server: str, page: Any) -> None:
    """记录复核 in the browser: the steward reads both records side by side and confirms they are one
    person; the page says so and the pair is gone."""
    _login(page, server, "steward")
    page.click("a[href='/steward/review']")
    page.wait_for_selector(".pair")
    pair = page.inner_text(".pair")
    assert (
        "钟国强" in pair
        and "青山镇_残疾人台账_2026.xlsx" in pair
        and "青山镇_低保花名册_2026年11月.xlsx" in pair
    )
    page.screenshot(path=str(ARTIFACTS / "steward_review.png"), full_page=True)
    page.click(".pair button[value=accept]")
    page.wait_for_selector("#decided")
    assert "是同一人（steward），已重新合并" in page.inner_text("#decided")
    assert page.is_visible("#no-pairs")
    page.screenshot(path=str(ARTIFACTS / "steward_reviewed.png"), full_page=True)

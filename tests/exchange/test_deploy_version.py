"""A deploy that changes how the views compute (a DDL file, an admitted field) is a new data version
for every township: a report file cached, or a cursor handed out, before the deploy is not served as
current after it. Opening the store again with the same definitions changes nothing."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

import hub.store.db as store_db
from hub.exchange import versions
from hub.facade import Hub
from hub.paths import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data"
QINGSHAN, CHENGGUAN = "331099101", "331099001"
REF = date(2026, 11, 30)


def _open(home: Path) -> Hub:
    hub = Hub(home)
    hub.db  # noqa: B018 -- open: the DDL applied, the deploy checked
    return hub


def test_a_deploy_that_changes_a_view_is_a_new_version_for_every_township(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    hub = _open(home)
    assert versions.current(hub.db) == 0  # a new store: nothing to stamp
    hub.load_divisions(SAMPLE / "divisions.csv")
    (report,) = hub.ingest([SAMPLE / "青山镇_残疾人台账_2026.xlsx"], township=QINGSHAN, annotate=False)
    assert report.status == "ingested"
    hub.merge()
    before = versions.current(hub.db)
    cursor = hub.report_file("CL-LXBT", QINGSHAN, REF).cursor
    hub.close()

    hub = _open(home)  # the same code again: no new version, the same cursor
    assert versions.current(hub.db) == before
    assert hub.report_file("CL-LXBT", QINGSHAN, REF).cursor == cursor
    hub.close()

    deployed = tmp_path / "ddl"  # the next release changes a view's definition
    shutil.copytree(store_db.DDL_DIR, deployed)
    views = deployed / "30_views.sql"
    views.write_text(views.read_text(encoding="utf-8") + "\n-- 下一版：视图定义有改动\n", encoding="utf-8")
    monkeypatch.setattr(store_db, "DDL_DIR", deployed)
    hub = _open(home)
    try:
        now = versions.current(hub.db)
        assert now == before + 1
        assert hub.db.scalar("SELECT cause FROM hub_data_versions WHERE version = ?", [now]) == "部署"
        for township in (QINGSHAN, CHENGGUAN):  # every township, not only those with data
            assert versions.current_for(hub.db, township) == now
        assert hub.report_file("CL-LXBT", QINGSHAN, REF).cursor != cursor
    finally:
        hub.close()
    hub = _open(home)  # and once only
    try:
        assert versions.current(hub.db) == before + 1
    finally:
        hub.close()

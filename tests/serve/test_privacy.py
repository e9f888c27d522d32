"""A clerk sees another township's facts only as "也在某镇登记（自 日期）".

Both townships' population ledgers are in the store; 邓子轩 is registered in both (人户分离: an
address and village in each). Each clerk's conflicts page names the other township and a date, and
none of the other township's address, village code or file name."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.paths import REPO_ROOT
from tests.serve.conftest import CHENGGUAN, QINGSHAN, SAMPLE, USERS, login

FILES = {QINGSHAN: SAMPLE / "青山镇_人口台账_2026.xlsx", CHENGGUAN: SAMPLE / "城关街道_人口台账_2026.xlsx"}


# its module fixture is built once: every test of the file on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("serve_privacy")


@pytest.fixture(scope="session")  # not module: xdist interleaves modules on a worker, which rebuilt it
def two_towns(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hub.facade import Hub
    from hub.serve.accounts import add_user
    from tests.serve.conftest import PASSWORD

    home = tmp_path_factory.mktemp("two_towns")
    hub = Hub(home)
    hub.load_divisions(SAMPLE / "divisions.csv")
    for name, (role, town, dept) in USERS.items():
        add_user(hub.db, name, role, township=town, dept=dept, password=PASSWORD)
    for town, path in FILES.items():
        hub.ingest([path], township=town, link=False, annotate=False)
    hub.merge()
    hub.close()
    return home


@pytest.fixture
def app2(two_towns: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from hub.serve.app import create_app

    monkeypatch.setenv("HUB_MAPPINGS", str(REPO_ROOT / "mappings"))
    shutil.copytree(two_towns, tmp_path / "home")
    application = create_app(tmp_path / "home")
    yield application
    application.state.hub_state.jobs.shutdown()
    application.state.hub_state.hub.close()


def _facts(app: Any, town: str) -> dict[str, list[str]]:
    """What only ``town``'s own ledger says about the people registered in both townships."""
    db = app.state.hub_state.hub.db
    both = [
        r[0]
        for r in db.rows(
            "SELECT id_number FROM hub_rows WHERE accepted AND id_number IS NOT NULL "
            "GROUP BY id_number HAVING count(DISTINCT township_code) > 1"
        )
    ]
    assert both, "the sample has a person registered in both townships (人户分离)"
    rows = db.dicts(
        "SELECT address, village_code FROM hub_rows WHERE township_code = ? AND list_contains(?, id_number)",
        [town, both],
    )
    return {
        "address": [str(r["address"]) for r in rows if r["address"]],
        "village_code": [str(r["village_code"]) for r in rows if r["village_code"]],
        "file": [FILES[town].name],
    }


@pytest.mark.parametrize(
    ("clerk", "own", "other", "other_name"),
    [("qs_clerk", QINGSHAN, CHENGGUAN, "城关街道"), ("cg_clerk", CHENGGUAN, QINGSHAN, "青山镇")],
)
def test_conflicts_page_shows_the_other_township_only_as_also_registered(
    app2: Any, clerk: str, own: str, other: str, other_name: str
) -> None:
    page = login(app2, clerk).get("/clerk/conflicts")
    assert page.status_code == 200
    text = page.text
    assert f"也在{other_name}登记（自 " in text
    foreign = _facts(app2, other)
    for kind, values in foreign.items():
        for value in values:
            assert value not in text, f"{clerk} sees {other_name}'s {kind}: {value}"
    mine = _facts(app2, own)
    assert any(a in text for a in mine["address"]) or any(v in text for v in mine["village_code"])
    assert FILES[own].name in text  # the clerk's own file and row, to act on


def test_steward_sees_every_source(app2: Any) -> None:
    text = login(app2, "steward").get("/steward/conflicts").text
    for town in FILES:
        for value in _facts(app2, town)["address"]:
            assert value in text


@pytest.mark.slow  # previews and the 一张表 of a township
def test_no_clerk_page_or_download_carries_the_other_townships_details(app2: Any) -> None:
    """Every page a clerk of 城关街道 reaches, and the files it downloads."""
    import io

    from openpyxl import load_workbook

    c = login(app2, "cg_clerk")
    foreign = [v for values in _facts(app2, QINGSHAN).values() for v in values]
    db = app2.state.hub_state.hub.db
    own_sid = db.scalar("SELECT min(submission_id) FROM hub_submissions WHERE township_code = ?", [CHENGGUAN])
    pages = ["/clerk", "/clerk/submissions", f"/clerk/submissions/{own_sid}", "/clerk/conflicts"]
    pages += [f"/clerk/preview?report={r}&date=2026-11-30" for r in ("WJ-ELDERLY65", "TJ-POP")]
    for path in pages:
        r = c.get(path)
        assert r.status_code == 200, path
        leaked = [v for v in foreign if v in r.text]
        assert not leaked, f"{path}: {leaked[:3]}"
    template = c.get("/clerk/template")
    assert template.status_code == 200
    wb = load_workbook(io.BytesIO(template.content), read_only=True)
    cells = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
    assert not [v for v in foreign if v in cells]

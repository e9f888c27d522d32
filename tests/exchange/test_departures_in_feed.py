"""Across the exchange's rooms: a resubmitted roster leaves two residents out (待核实), the clerk
answers one 迁出, and the department that subscribes to the report learns exactly that — the one
answered 迁出 removed with the clerk's answer as the reason, the one still 待核实 kept, the newcomer
added — and the changes replayed on its last pull give the report it would pull now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.paths import REPO_ROOT
from tests.conftest import Cli
from tests.exchange.feed_data import apply, full
from tests.exchange.rosters import month_rosters

REPORT, TOWN, REF = "WJ-ELDERLY65", "青山镇", "2026-11-30"  # the roster's residents are all 76


def _names(state: dict[tuple[str, str], list[dict[str, Any]]]) -> set[str]:
    return {str(r["姓名"]) for (s, _), rows in state.items() if s == "名单" for r in rows}


@pytest.mark.slow  # several CLI runs, each a merge and a report snapshot
def test_a_departure_answered_by_the_clerk_reaches_the_subscriber_as_its_reason(
    cli: Cli, tmp_path: Path
) -> None:
    files = month_rosters(tmp_path / "in")
    assert cli("divisions", "load", REPO_ROOT / "sample_data" / "divisions.csv").exit_code == 0

    def pull(since: str | None = None) -> dict[str, Any]:
        args = ["changes", "--report", REPORT, "--township", TOWN, "--date", REF, "--json"]
        feed, code = cli.json(*args, *(["--since", since] if since else []))
        assert code == 0
        return dict(feed)

    _, code = cli.json("ingest", files["october"], "--township", TOWN, "--no-link", "--no-annotate")
    assert code == 0
    first = pull()
    state, cursor = full(first), first["cursor"]
    assert _names(state) == {f"居民{n:03d}" for n in range(1, 7)}

    _, code = cli.json("ingest", files["november"], "--township", TOWN, "--no-link", "--no-annotate")
    assert code == 0
    departures, _ = cli.json("departures")
    by_name = {d["name"]: d["departure_id"] for d in departures}
    assert set(by_name) == {"居民002", "居民005"}
    answered, code = cli.json("departures", "answer", str(by_name["居民005"]), "--answer", "迁出",
                              "--by", "王芳", "--note", "迁往城关街道")  # fmt: skip
    assert code == 0 and answered["answer"] == "迁出"

    feed = pull(cursor)
    removed = [r for r in feed["removed"] if r["sheet"] == "名单"]
    assert [r["reason"] for r in removed] == ["迁出"]  # 居民002 is still 待核实: kept, not removed
    added = [r["rows"][0]["姓名"] for r in feed["added"] if r["sheet"] == "名单"]
    assert added == ["居民007"]
    state = apply(state, feed)
    assert state == full(pull())
    assert _names(state) == {f"居民{n:03d}" for n in (1, 2, 3, 4, 6, 7)}

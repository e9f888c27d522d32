"""Resubmissions through the CLI on a tiny store: the November roster supersedes October's, the
residents it no longer lists are 待核实 and stay in the reports until the clerk answers; 迁出/死亡
take them out, 漏报 keeps them until the next roster; withdrawing the resubmission brings October back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from hub.exchange.departures import source_of
from tests.conftest import SAMPLE
from tests.exchange.rosters import DECEMBER, month_rosters, person, person_id, write_roster


def _ids_in_report(cli: Any, out: Path) -> set[str]:
    """The ID numbers in 卫健's 65+ report for 青山镇, as the department opens it."""
    result = cli(
        "export", "--report", "WJ-ELDERLY65", "--township", "青山镇", "--date", "2026-11-30", "--out", out
    )
    assert result.exit_code == 0, result.output
    (path,) = list(out.rglob("WJ-ELDERLY65*.xlsx"))
    ids = {
        str(c) for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True) for c in row if c
    }
    path.unlink()
    return {i for i in ids if len(i) == 18 and i[:6] == "331099"}


def _setup(cli: Any, tmp_path: Path) -> dict[str, Path]:
    files = month_rosters(tmp_path / "in")
    assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0
    first, code = cli.json("ingest", files["october"], "--township", "青山镇", "--no-link", "--no-annotate")
    assert code == 0 and first[0]["resubmission"] is None
    return files


@pytest.mark.slow  # several CLI runs, each a process-sized merge or export
def test_a_resubmission_says_what_it_changed_and_flags_who_left(cli: Any, tmp_path: Path) -> None:
    files = _setup(cli, tmp_path)
    text = cli("ingest", files["november"], "--township", "青山镇", "--no-link", "--no-annotate")
    assert text.exit_code == 0, text.output
    assert (
        "本次报送取代了 青山镇人口花名册2026年10月.csv（提交号 1）：新增 1 人，信息有变化 1 人，不再列出 2 人"
        in text.stdout
    )
    departures, code = cli.json("departures")
    assert code == 0
    assert [(d["name"], d["status"], d["old_submission_id"], d["new_submission_id"]) for d in departures] == [
        ("居民002", "待核实", 1, 2),
        ("居民005", "待核实", 1, 2),
    ]
    listing = cli("departures", "--township", "青山镇")
    assert "居民002" in listing.stdout and "青山镇人口花名册2026年10月.csv 有" in listing.stdout

    # meanwhile the departments still get both (their October rows stay in force)
    out = tmp_path / "out"
    cli(
        "departures", "answer", str(departures[0]["departure_id"]), "--answer", "漏报", "--by", "王芳"
    )  # merges
    assert _ids_in_report(cli, out) == {person_id(n) for n in range(1, 8)}

    moved, code = cli.json("departures", "answer", str(departures[1]["departure_id"]), "--answer", "迁出",
                           "--by", "王芳", "--note", "11月迁往城关街道")  # fmt: skip
    assert code == 0 and moved["answer"] == "迁出" and moved["answered_by"] == "王芳"
    assert _ids_in_report(cli, out) == {person_id(n) for n in (1, 2, 3, 4, 6, 7)}
    assert cli("departures").stdout.strip() == "没有待核实人员。"
    everything, _ = cli.json("departures", "--all")
    assert {d["name"]: d["status"] for d in everything} == {"居民002": "漏报", "居民005": "迁出"}

    # December lists neither 2 (answered 漏报) nor 5 (迁出): 2 is flagged again, 5 stays gone
    write_roster(tmp_path / "in" / DECEMBER, [person(n) for n in (1, 3, 4, 6, 7, 8)])
    dec, _ = cli.json(
        "ingest", tmp_path / "in" / DECEMBER, "--township", "青山镇", "--no-link", "--no-annotate"
    )
    assert dec[0]["resubmission"]["superseded"][0]["file"] == "青山镇人口花名册2026年11月.csv"
    assert (dec[0]["resubmission"]["added"], dec[0]["resubmission"]["left"]) == (1, 1)
    again, _ = cli.json("departures")
    assert [(d["name"], d["old_submission_id"], d["new_submission_id"]) for d in again] == [("居民002", 1, 3)]
    dead, _ = cli.json(
        "departures", "answer", str(again[0]["departure_id"]), "--answer", "死亡", "--by", "王芳"
    )
    assert dead["persons"] == 6
    assert _ids_in_report(cli, out) == {person_id(n) for n in (1, 3, 4, 6, 7, 8)}


@pytest.mark.slow  # several CLI runs, each a process-sized merge or export
def test_withdrawing_the_resubmission_brings_the_earlier_ledger_back(cli: Any, tmp_path: Path) -> None:
    files = _setup(cli, tmp_path)
    nov, _ = cli.json("ingest", files["november"], "--township", "青山镇", "--no-link", "--no-annotate")
    (moved,) = [d for d in cli.json("departures")[0] if d["name"] == "居民005"]
    cli("departures", "answer", str(moved["departure_id"]), "--answer", "迁出", "--by", "王芳")
    assert person_id(5) not in _ids_in_report(cli, tmp_path / "out")
    withdrawn = cli("withdraw", str(nov[0]["submission_id"]), "--reason", "传错了月份", "--by", "王芳")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert cli("departures", "--all").stdout.strip() == "没有待核实人员。"
    assert _ids_in_report(cli, tmp_path / "out") == {person_id(n) for n in range(1, 7)}
    # the same November roster sent again supersedes October afresh
    again, _ = cli.json("ingest", files["november"], "--township", "青山镇", "--no-link", "--no-annotate")
    assert again[0]["resubmission"]["left"] == 2


@pytest.mark.slow  # several CLI runs, each a process-sized merge or export
def test_bad_answers_are_refused_in_chinese(cli: Any, tmp_path: Path) -> None:
    files = _setup(cli, tmp_path)
    cli("ingest", files["november"], "--township", "青山镇", "--no-link", "--no-annotate")
    first = cli.json("departures")[0][0]
    wrong = cli("departures", "answer", str(first["departure_id"]), "--answer", "不知道", "--by", "王芳")
    assert wrong.exit_code == 1 and "核实结果只能是 迁出、死亡 或 漏报" in wrong.output
    unknown = cli("departures", "answer", "999", "--answer", "迁出", "--by", "王芳")
    assert unknown.exit_code == 1 and "没有编号为 999 的待核实人员" in unknown.output
    assert "Traceback" not in wrong.output + unknown.output


@pytest.mark.slow  # several CLI runs, each a process-sized merge or export
def test_another_source_or_township_is_not_a_resubmission(cli: Any, tmp_path: Path) -> None:
    files = _setup(cli, tmp_path)
    other = write_roster(tmp_path / "in" / "青山镇独居老人名单2026年11月.csv", [person(n) for n in (1, 2)])
    out, _ = cli.json("ingest", other, "--township", "青山镇", "--no-link", "--no-annotate")
    assert out[0]["resubmission"] is None
    cg, _ = cli.json("ingest", files["chengguan"], "--township", "城关街道", "--no-link", "--no-annotate")
    assert cg[0]["resubmission"] is None
    assert cli.json("departures")[0] == []


def test_same_source_means_same_kind_and_file_name_without_its_period() -> None:
    same = [
        "青山镇_低保花名册_2026年11月.xlsx",
        "青山镇_低保花名册_2026年12月.xlsx",
        "青山镇_低保花名册_202612.xlsx",
        "青山镇低保花名册（2027.01）.xlsx",
        "青山镇_低保花名册_2026年12月(1).xlsx",
        "青山镇_低保花名册_十二月_更正.xls",
    ]
    assert len({source_of(n, "dibao") for n in same}) == 1
    assert source_of(same[0], "dibao") != source_of("青山镇_残疾人台账_2026.xlsx", "dibao")
    assert source_of(same[0], "dibao") != source_of(same[0], "population")

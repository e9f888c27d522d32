"""Entity resolution through the CLI, as a clerk and a steward use it: a copied ID is caught, a
decision in `hub review` is kept and applied, and `hub explain` shows where a person comes from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE, Cli, use_workspace

pytestmark = pytest.mark.xdist_group("sample_ingest")  # one worker ingests the samples for these tests


@pytest.fixture
def ingested(cli: Cli, hub_home: Path, sample_ingested: tuple[Path, Any]) -> Cli:
    """Every sample ledger ingested (`hub divisions load`, `hub ingest *LEDGERS --no-annotate`), in
    this test's own copy of the workspace."""
    use_workspace(sample_ingested[0], hub_home)
    return cli


def _a_known_man() -> tuple[str, str]:
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["files"]
    for row in truth["青山镇_人口台账_2026.xlsx"]["rows"]:
        if not row["codes"] and int(row["key"][16]) % 2 == 1 and not row.get("hidden"):
            return row["key"], row["name"].strip()
    raise AssertionError("no clean male row in the sample")


def test_an_id_copied_to_another_person_is_rejected_and_listed(ingested: Cli, tmp_path: Path) -> None:
    from openpyxl import Workbook

    holder_id, holder_name = _a_known_man()
    wb = Workbook()
    ws = wb.active
    ws.append(["青山镇残疾人台账"])
    ws.append(["序号", "姓名", "性别", "公民身份号码", "残疾类别", "残疾等级", "所属村（社区）"])
    ws.append([1, "何秀兰", "女", holder_id, "肢体", "二级", "青山社区"])  # the wife carries his ID
    path = tmp_path / "青山镇_残疾人台账_补报.xlsx"
    wb.save(path)
    (report,), code = ingested.json("ingest", path, "--no-annotate")
    assert code == 1 and report["rejected"] == 1
    (error,) = [e for e in report["errors"] if e["code"] == "id-misused"]
    assert error["row"] == 3 and error["value"] == holder_id and "何秀兰" in error["message"]
    conflicts, _ = ingested.json("conflicts")
    (misuse,) = [c for c in conflicts if c["kind"] == "号码误用"]
    assert misuse["name"] == holder_name and misuse["sources"][0]["value"] == "何秀兰"
    assert misuse["sources"][0]["row"] == 3
    # the holder keeps his own record: nobody was merged into him
    from hub.facade import Hub

    assert Hub().db.scalar("SELECT name FROM hub_person WHERE id_number = ?", [holder_id]) == holder_name


def test_review_decisions_are_kept_applied_and_explained(ingested: Cli) -> None:
    pending, _ = ingested.json("review")
    assert pending, "the samples hold a precision-lost ID that only a steward can confirm"
    pair = pending[0]
    assert {"left", "right", "match_probability", "drivers"} <= set(pair)
    assert pair["drivers"] and all("level" in d and "weight" in d for d in pair["drivers"])
    before, _ = ingested.json("status")
    result = ingested("review", "accept", pair["pair_id"], "--by", "张管理员")
    assert result.exit_code == 0, result.output
    after_pending, _ = ingested.json("review")
    assert pair["pair_id"] not in {p["pair_id"] for p in after_pending}  # never asked again
    after, _ = ingested.json("status")
    assert after["accepted"] == before["accepted"] + 1  # the row without a usable ID is now filled
    from hub.facade import Hub

    code = Hub().db.scalar(
        "SELECT person_code FROM hub_link_clusters WHERE uid IN (?, ?) LIMIT 1",
        [pair["left"]["uid"], pair["right"]["uid"]],
    )
    explained, _ = ingested.json("explain", code)
    assert any(
        d.get("decided_by") == "张管理员" or d.get("who") == "张管理员" for d in explained["decisions"]
    )
    assert len(explained["records"]) >= 2
    again = ingested("review", "reject", "no-such-pair")
    assert again.exit_code == 1 and "hub review" in again.output and "Traceback" not in again.output

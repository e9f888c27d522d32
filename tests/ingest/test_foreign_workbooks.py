"""Real workbooks from other projects' test suites (tests/data/foreign_workbooks/README.md) through
the hub's readers: each is read or refused with a HubError (a message for the clerk), never a crash.
A sample of every source runs in `make test`; all of them in the slow run."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import HubError
from hub.ingest import read_sheets

FOLDER = Path(__file__).resolve().parent.parent / "data" / "foreign_workbooks"
ALL = sorted(p for p in FOLDER.rglob("*") if p.is_file() and p.name != "README.md")
# every 8th file, plus the ones known to be hostile, broken or encrypted
SAMPLE = sorted(
    {p for i, p in enumerate(ALL) if i % 8 == 0}
    | {p for p in ALL if any(k in p.name.lower() for k in ("oom", "dos", "pass", "issue"))}
)


def read_or_refuse(path: Path) -> str:
    try:
        sheets = read_sheets(path)
    except HubError as exc:
        assert exc.message and exc.file == path.name, exc
        return "refused"
    for sheet in sheets:
        assert sheet.table.column_names[0] == "_row"
        assert all(name == f"c{i}" for i, name in enumerate(sheet.table.column_names[1:], start=1))
    return "read"


def test_there_are_hundreds_from_four_sources() -> None:
    assert len(ALL) >= 400
    assert {p.parent.name for p in ALL} == {"calamine", "python-calamine", "xlrd", "xlsxwriter"}


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_foreign_workbook_sample(path: Path) -> None:
    read_or_refuse(path)


@pytest.mark.slow
def test_every_foreign_workbook_is_read_or_refused() -> None:
    outcomes = {p: read_or_refuse(p) for p in ALL}
    read = sum(1 for o in outcomes.values() if o == "read")
    assert read >= 0.9 * len(ALL)  # most are ordinary workbooks

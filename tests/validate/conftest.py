import shutil
import warnings
from datetime import date

import pyarrow as pa
import pytest

import hub.store.db as dbm
from hub.ingest.types import Column, StagedSheet
from hub.model import load_schema

TODAY = date(2026, 11, 25)
TOWNSHIP = "410102001"


@pytest.fixture
def db(tmp_path, monkeypatch):
    try:
        database = dbm.Database(None)
    except Exception as exc:  # another stage's DDL file is broken: validation only needs 10_ingest.sql
        warnings.warn(f"full DDL failed ({exc}); using 10_ingest.sql only", stacklevel=1)
        (tmp_path / "ddl").mkdir()
        shutil.copy(dbm.DDL_DIR / "10_ingest.sql", tmp_path / "ddl")
        monkeypatch.setattr(dbm, "DDL_DIR", tmp_path / "ddl")
        database = dbm.Database(None)
    database.execute(
        "INSERT INTO hub_divisions VALUES ('410102001', '城关镇', 'township', '410102', '镇'), "
        "('410102001201', '东风村', 'village', '410102001', '村'), ('410102001001', '南街社区', 'village', '410102001', '社区'), "
        "('410102002201', '西山村', 'village', '410102002', '村')"
    )
    yield database
    database.close()


@pytest.fixture(scope="session")
def schema():
    return load_schema()


def make_sheet(
    kind: str, columns: dict[str, tuple[str, list]], first_row: int = 4, sheet: str = "Sheet1"
) -> StagedSheet:
    """columns: field -> (header as written, cells)."""
    n = len(next(iter(columns.values()))[1])
    data = {"_sheet": [sheet] * n, "_row": list(range(first_row, first_row + n))}
    data.update({f: pa.array(cells, pa.string()) for f, (_h, cells) in columns.items()})
    cols = [Column(i + 1, h, f) for i, (f, (h, _c)) in enumerate(columns.items())]
    return StagedSheet(sheet=sheet, kind=kind, township_code=TOWNSHIP, columns=cols, data=pa.table(data))


@pytest.fixture(name="make_sheet")
def make_sheet_fixture():
    return make_sheet

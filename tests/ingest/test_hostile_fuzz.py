"""Fuzzing the readers with hypothesis: mutated bytes of a small .xlsx, its sheet XML, and a CSV.
Whatever the bytes, `read_sheets` returns sheets or raises a HubError, never anything else."""

from __future__ import annotations

import contextlib
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import HubError
from hub.ingest import read_sheets
from tests.ingest import hostile_payloads as hp

WORK = Path(tempfile.mkdtemp(prefix="hub-fuzz-"))
XLSX = hp.write_xlsx(
    WORK / "seed.xlsx",
    hp.rows_xml(hp.ledger_rows(5)),
    sheet_tail='<mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells>',
)
SEED = XLSX.read_bytes()
with zipfile.ZipFile(XLSX) as _zf:
    PARTS = {i.filename: _zf.read(i) for i in _zf.infolist()}
CSV = ("\n".join(",".join(r) for r in hp.ledger_rows(5)) + "\n").encode("utf-8")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def read(data: bytes, name: str) -> None:
    path = WORK / name
    path.write_bytes(data)
    with contextlib.suppress(HubError):
        read_sheets(path)


def mutate(seed: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    data = bytearray(seed)
    for at, value in edits:
        data[at % len(data)] = value
    return bytes(data[:cut] if cut else data)


@pytest.mark.slow
@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=20),
    st.none() | st.integers(1, len(SEED)),
)
def test_mutated_xlsx_bytes(edits: list[tuple[int, int]], cut: int | None) -> None:
    read(mutate(SEED, edits, cut), "fuzz.xlsx")


@pytest.mark.slow
@FUZZ
@given(
    st.sampled_from(sorted(PARTS)),
    st.lists(
        st.tuples(st.integers(0, 1 << 16), st.sampled_from(list(b'<>/"=&;:!?rRcCvsStT0159XFD \x00\xff'))),
        min_size=1,
        max_size=12,
    ),
)
def test_mutated_xlsx_parts(part: str, edits: list[tuple[int, int]]) -> None:
    """One part of a valid package mutated, the package itself intact (reaches the XML scanners)."""
    path = WORK / "parts.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in PARTS.items():
            zf.writestr(name, mutate(data, edits, None) if name == part else data)
    with contextlib.suppress(HubError):
        read_sheets(path)


@pytest.mark.slow
@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, 1 << 12), st.sampled_from(list(b'",\n\r\t;|\x00\xe5\xbc\xa0a1 '))),
        max_size=20,
    ),
    st.none() | st.integers(1, len(CSV)),
)
def test_mutated_csv(edits: list[tuple[int, int]], cut: int | None) -> None:
    read(mutate(CSV, edits, cut), "fuzz.csv")


@pytest.mark.slow
@FUZZ
@given(st.binary(min_size=1, max_size=4096), st.sampled_from(["x.xlsx", "x.csv", "x.xls", "x.ods", "x.xlsb"]))
def test_random_bytes_any_suffix(data: bytes, name: str) -> None:
    read(data, name)

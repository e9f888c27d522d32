"""Synthetic county and messy ledgers: valid check digits, exact truth, determinism."""

from __future__ import annotations

import csv
import importlib.util
import json
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from hub.model import load_schema
from hub.synth import (
    Defects,
    make_county,
    sample_townships,
    write_business,
    write_dibao,
    write_disability,
    write_population,
)
from hub.synth.checkdigits import id_is_valid, uscc_is_valid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def county():  # type: ignore[no-untyped-def]
    return make_county(11, 400, sample_townships())


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002X",
        "440524188001010014",
        "360426199101010071",
        "120103198806018241",
        "410102199003071230",
        "41010219440502002X",
    ],
)
def test_id_vectors_valid(value: str) -> None:
    assert id_is_valid(value)


@pytest.mark.parametrize("value", ["110105194912310021", "410102194502290013", "110105194902300020"])
def test_id_vectors_invalid(value: str) -> None:
    assert not id_is_valid(value)


@pytest.mark.parametrize(
    "value",
    [
        "91350100M000100Y43",
        "91110108551385082Q",
        "91110000600037341L",
        "92410102L12345674K",
        "N2410102500123453R",
    ],
)
def test_uscc_vectors(value: str) -> None:
    assert uscc_is_valid(value)
    assert not uscc_is_valid(value[:17] + ("A" if value[17] != "A" else "B"))


def test_county_ground_truth(county) -> None:  # type: ignore[no-untyped-def]
    assert all(id_is_valid(pid) for pid in county.persons)
    for p in county.persons.values():
        assert p.sex == ("1" if int(p.id_number[16]) % 2 else "2")
        assert p.id_number[6:14] == f"{p.birth_date:%Y%m%d}"
    assert all(uscc_is_valid(b.uscc) for b in county.businesses)
    prefixes = {b.uscc[:2] for b in county.businesses}
    assert {"92", "91"} <= prefixes
    births = {(p.birth_date.month, p.birth_date.day) for p in county.persons.values()}
    assert (2, 29) in births
    assert any(p.status == "2" for p in county.persons.values())
    assert county.dual
    severe = [
        d
        for d in county.dibao
        for m in d.covered
        if m in county.disabilities and county.disabilities[m].level in "12"
    ]
    assert severe


def test_deterministic_per_seed() -> None:
    a, b = make_county(5, 200, 2), make_county(5, 200, 2)
    assert list(a.persons) == list(b.persons)
    assert list(make_county(6, 200, 2).persons) != list(a.persons)


def _cell_text(v: object) -> str:
    return unicodedata.normalize("NFKC", str(v)).strip().replace("\u200b", "")


@pytest.mark.parametrize("writer", [write_population, write_disability, write_dibao, write_business])
def test_xlsx_truth_rows_point_at_the_right_row(county, tmp_path: Path, writer) -> None:  # type: ignore[no-untyped-def]
    findings = load_schema().findings
    for n, town in enumerate(county.townships):
        path, truth = writer(
            county, town.code, tmp_path / f"{n}.xlsx", Defects.uniform(0.05, duplicates=1, seed=n)
        )
        wb = openpyxl.load_workbook(path)
        assert truth.rows
        for r in truth.rows:
            ws = wb[r.sheet]
            values = [_cell_text(c.value) for c in ws[r.row] if c.value is not None]
            if r.name is not None:
                assert _cell_text(r.name) in values, (r, values)
            for e in r.codes:
                assert findings[e.code].severity == e.severity
            assert len({e.field for e in r.codes}) == len(r.codes)  # one defect per cell
        if writer is not write_business:
            keys = {r.key for r in truth.rows}
            assert all(id_is_valid(k) for k in keys)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings_and_line_numbers(county, tmp_path: Path, encoding: str) -> None:  # type: ignore[no-untyped-def]
    town = county.townships[1]
    path, truth = write_population(
        county, town.code, tmp_path / "p.csv", Defects.uniform(0.03, seed=2), encoding=encoding
    )
    text = path.read_bytes().decode("gb18030" if encoding.startswith("gb") else encoding)
    lines = list(csv.reader(text.splitlines()))
    for r in truth.rows:
        if r.name:
            assert _cell_text(r.name) in [_cell_text(c) for c in lines[r.row - 1]]
    path, truth = write_business(county, town.code, tmp_path / "b.tsv", Defects.uniform(0.05, seed=2))
    assert "\t" in path.read_text(encoding="utf-8").splitlines()[3]


def test_writers_deterministic(county, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    town = county.townships[0]
    _, a = write_dibao(county, town.code, tmp_path / "a.xlsx", Defects.uniform(0.05, seed=3))
    _, b = write_dibao(county, town.code, tmp_path / "b.xlsx", Defects.uniform(0.05, seed=3))
    assert [(r.row, r.key, r.codes) for r in a.rows] == [(r.row, r.key, r.codes) for r in b.rows]
    wa = openpyxl.load_workbook(tmp_path / "a.xlsx").active
    wbk = openpyxl.load_workbook(tmp_path / "b.xlsx").active
    assert [c.value for row in wa for c in row] == [c.value for row in wbk for c in row]


def test_sample_data_matches_generator(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "gen_sample_data", ROOT / "benchmarks" / "gen_sample_data.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fresh = mod.generate(tmp_path)
    stored = json.loads((ROOT / "sample_data" / "truth.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(fresh, ensure_ascii=False)) == stored
    for name in stored["files"]:
        assert (ROOT / "sample_data" / name).stat().st_size < 300_000
    assert (tmp_path / "divisions.csv").read_bytes() == (ROOT / "sample_data" / "divisions.csv").read_bytes()
    gbk = next(n for n in stored["files"] if n.endswith(".csv"))
    (ROOT / "sample_data" / gbk).read_bytes().decode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        (ROOT / "sample_data" / gbk).read_bytes().decode("utf-8")

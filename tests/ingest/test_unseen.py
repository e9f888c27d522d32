"""Unseen ledgers built from REAL header spellings (tests/data/real_headers, DEV split only).

What a clerk would check: re-laying out the same ledger (numbering, letter spacing, line breaks,
traditional characters, another column order) does not change what the hub makes of any column, and
every data row written comes back as accepted, rejected or held. Accuracy itself is measured by
``benchmarks/bench_columns.py`` (figures in docs/benchmarks.md), not asserted here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import IngestError
from hub.ingest import Divisions, stage_file
from hub.model import Schema
from hub.synth.checkdigits import id_is_valid, uscc_is_valid
from hub.synth.unseen import (
    DIVISIONS,
    NUMBERING,
    Knobs,
    UnseenLedger,
    build_ledger,
    filler_for,
    load_catalogue,
    sources_of,
    unseen_county,
    write_ledger,
)

DEV = sources_of("dev")
DEV_SOURCES = sorted(DEV)
PROPERTY = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def sample_divisions(schema: Schema) -> Divisions:
    from hub.ingest import read_divisions_csv

    return Divisions(read_divisions_csv(DIVISIONS, schema), schema)


def placed(ledger: UnseenLedger, schema: Schema, divisions: Divisions) -> dict[str, str | None]:
    """The field the hub gives each catalogue column (held sheets included), by catalogue header."""
    try:
        staged = stage_file(Path(ledger.path), schema, divisions)
    except IngestError:
        return {c.catalogue_header: None for c in ledger.columns if c.catalogue_header}
    fields = {c.col_index: c.field for s in staged.sheets for c in s.columns}
    fields.update({c.col_index: c.field for h in staged.held for c in h.columns})
    return {c.catalogue_header: fields.get(c.col_index) for c in ledger.columns if c.catalogue_header}


def test_the_catalogue_is_split_by_whole_sources_and_every_dash_column_gets_values() -> None:
    rows = load_catalogue()
    assert len(DEV) == 31 and len(sources_of("heldout")) == 10
    assert all(len({r.split for r in rows if r.source_id == s}) == 1 for s in {r.source_id for r in rows})
    assert [r.header for r in rows if r.field is None and filler_for(r.header) is None] == []


@pytest.mark.parametrize("source", DEV_SOURCES)
def test_a_plain_ledger_has_the_source_s_columns_in_order_and_valid_identifiers(source: str) -> None:
    county = unseen_county()
    layout, columns, model, n = build_ledger(county, county.townships[0], DEV[source], Knobs(), seed=5)
    assert [c.catalogue_header for c in columns] == [r.header for r in DEV[source]]
    assert [c.field for c in columns] == [r.field for r in DEV[source]]
    assert n > 0 and len(layout.rows) > n
    data = layout.rows[-n:]
    for col in columns:
        values = [row[col.col_index - 1] for row in data]
        if col.field in ("id_number", "head_id_number"):
            assert all(id_is_valid(str(v)) for v in values), (source, col.header)
        if col.field == "uscc":
            assert all(uscc_is_valid(str(v)) for v in values)
        if col.field in ("name", "head_name", "business_name", "operator_name"):
            assert all(values), (source, col.header)


VARIANTS = {
    "numbering": lambda d: Knobs(numbering=d.draw(st.sampled_from(NUMBERING[1:]))),
    "letter spacing": lambda d: Knobs(spacing=1.0),
    "line breaks": lambda d: Knobs(breaks=1.0),
    "traditional characters": lambda d: Knobs(traditional=True),
    "trailing colons": lambda d: Knobs(colons=1.0),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@PROPERTY
@given(data=st.data(), source=st.sampled_from(DEV_SOURCES), seed=st.integers(0, 10_000))
def test_respelling_the_headers_keeps_every_column_s_field(
    variant: str,
    data: st.DataObject,
    source: str,
    seed: int,
    tmp_path: Path,
    schema: Schema,
    sample_divisions: Divisions,
) -> None:
    knobs = VARIANTS[variant](data)
    plain = write_ledger(tmp_path, DEV[source], Knobs(), seed, township=seed, stem=f"{seed}_plain")
    other = write_ledger(tmp_path, DEV[source], knobs, seed, township=seed, stem=f"{seed}_{variant}")
    assert placed(other, schema, sample_divisions) == placed(plain, schema, sample_divisions)


def test_shuffling_the_columns_keeps_every_column_s_field(
    tmp_path: Path, schema: Schema, sample_divisions: Divisions
) -> None:
    for source in DEV_SOURCES:  # every dev source, one seed; stops at the first source that changes
        plain = write_ledger(tmp_path, DEV[source], Knobs(), 1, stem=f"{source}_plain")
        other = write_ledger(tmp_path, DEV[source], Knobs(shuffle=True), 1, stem=f"{source}_shuffled")
        before, after = placed(plain, schema, sample_divisions), placed(other, schema, sample_divisions)
        assert {h: (before[h], after[h]) for h in before if before[h] != after[h]} == {}, source


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_data_row_of_an_unseen_ledger_is_accepted_rejected_or_held(fmt: str, tmp_path: Path) -> None:
    from hub.facade import Hub

    knobs = Knobs(fmt=fmt, title=True, meta=True, total="last", footer=True, seq=True, extra=1)
    ledger = write_ledger(tmp_path, DEV["mz_rural_dibao_person"], knobs, seed=3, township=1)
    if fmt == "csv":
        Path(ledger.path).read_bytes().decode("gbk")  # a GBK file, as Excel saves it
    hub = Hub(tmp_path / "home")
    try:
        hub.load_divisions(DIVISIONS)
        (report,) = hub.ingest([Path(ledger.path)], annotate=False, link=False)
    finally:
        hub.close()
    assert report.status in ("ingested", "held"), report.message
    assert report.rows == report.accepted + report.rejected + report.held == ledger.rows
    if report.status == "ingested":
        assert report.township == ledger.township_code


def test_values_do_not_depend_on_the_layout() -> None:
    county = unseen_county()
    rows = DEV["mz_dibao_edge_person"]
    _, cols_a, _, n_a = build_ledger(county, county.townships[1], rows, Knobs(), seed=9)
    layout_b, cols_b, _, n_b = build_ledger(
        county, county.townships[1], rows, replace(Knobs(), shuffle=True), seed=9
    )
    layout_a, *_ = build_ledger(county, county.townships[1], rows, Knobs(), seed=9)
    assert n_a == n_b
    by_header_a = {c.catalogue_header: [r[c.col_index - 1] for r in layout_a.rows[-n_a:]] for c in cols_a}
    by_header_b = {c.catalogue_header: [r[c.col_index - 1] for r in layout_b.rows[-n_b:]] for c in cols_b}
    assert by_header_a == by_header_b

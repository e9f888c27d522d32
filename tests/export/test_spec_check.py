"""`check_mappings`: shipped specs pass; every failure kind is reported, all at once, with file,
field path and a suggestion; every compiled tree transpiles to Spark SQL."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from hub.export import check_mappings
from hub.export.catalog import compile_text, spec_files
from hub.store.db import Database

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def test_shipped_specs_pass() -> None:
    assert [str(p) for p in check_mappings()] == []
    assert len(spec_files()) == 7


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_compiled_tree_transpiles_to_spark(path: Path) -> None:
    with Database(None) as db:
        compiled, problems = compile_text(
            path.read_text(encoding="utf-8"),
            f"mappings/{path.name}",
            db,
            report_date=dt.date(2026, 11, 30),
            township="331099101",
        )
    assert problems == [] and compiled is not None
    for sheet in compiled.sheets:
        for tree in sheet.trees():
            spark = tree.sql(dialect="spark")
            assert "SELECT" in spark and "ctx" in spark


def _broken(tmp_path: Path, edit: dict[str, object], name: str = "CL-LXBT") -> list[str]:
    """Copy one shipped spec, apply `edit` (dotted path → value) to one, return its problems."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    shutil.copy(MAPPINGS / f"{name}.yaml", folder)
    spec = yaml.safe_load((folder / f"{name}.yaml").read_text(encoding="utf-8"))
    for dotted, value in edit.items():
        node = spec
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            del node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]]
        else:
            node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return [str(p) for p in check_mappings(folder)]


def test_unknown_column_with_did_you_mean(tmp_path: Path) -> None:
    got = _broken(tmp_path, {"sheets.0.columns.3.expr": "p.sexx"})
    assert got == [
        "mappings/CL-LXBT.yaml: sheets[0].columns[3].expr: unknown column 'sexx' — did you mean 'sex'? (view person as p)"
    ]


def test_unqualified_unknown_column(tmp_path: Path) -> None:
    got = _broken(tmp_path, {"sheets.0.columns.2.expr": "nmae"})
    assert got == [
        "mappings/CL-LXBT.yaml: sheets[0].columns[2].expr: unknown column 'nmae' — did you mean 'name'?"
    ]


def test_bad_sql_names_position(tmp_path: Path) -> None:
    (problem,) = _broken(tmp_path, {"sheets.0.columns.2.expr": "p.name ||| "})
    assert problem.startswith("mappings/CL-LXBT.yaml: sheets[0].columns[2].expr: bad SQL (line 1, col ")


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    got = _broken(tmp_path, {"sheets.0.columns.3.exprs": "p.sex", "sheets.0.columns.3.expr": None})
    assert (
        "mappings/CL-LXBT.yaml: sheets[0].columns[3].exprs: unknown key 'exprs' — did you mean 'expr'?" in got
    )


def test_field_outside_entitlement_names_field_and_department(tmp_path: Path) -> None:
    got = _broken(tmp_path, {"sheets.0.columns.11.expr": "p.birth_date"})
    assert got == [
        "mappings/CL-LXBT.yaml: sheets[0].columns[11].expr: field 'person.birth_date' is not entitled for 残联 (CL-LXBT)"
    ]


def test_condition_only_field_cannot_be_output(tmp_path: Path) -> None:
    got = _broken(
        tmp_path, {"sheets.0.columns.8.expr": "dm.person_code", "sheets.0.columns.8.codelist": None}
    )
    assert got == [
        "mappings/CL-LXBT.yaml: sheets[0].columns[8].expr: field 'dibao_member.person_code' may be used by "
        "残联 (CL-LXBT) only in conditions (是/否, counts, joins)"
    ]


def test_aggregate_report_cannot_name_persons(tmp_path: Path) -> None:
    got = _broken(tmp_path, {"sheets.0.columns.0.expr": "max(p.name)"}, name="TJ-POP")
    assert got == [
        "mappings/TJ-POP.yaml: sheets[0].columns[0].expr: field 'person.name' is not entitled for 统计 (TJ-POP)"
    ]


def test_text_only_field_must_be_translated(tmp_path: Path) -> None:
    got = _broken(tmp_path, {"sheets.0.columns.12.expr": "d.category"}, name="MZ-DIBAO")
    assert got == [
        "mappings/MZ-DIBAO.yaml: sheets[0].columns[12].expr: field 'disability.category' may be used by "
        "民政 (MZ-DIBAO) only as code text (code_label)"
    ]


def test_unknown_view_code_list_template_and_key_all_at_once(tmp_path: Path) -> None:
    got = _broken(
        tmp_path,
        {
            "sheets.0.population.from": "persn p JOIN disability d ON d.person_code = p.person_code "
            "LEFT JOIN dibao_member dm ON dm.person_code = p.person_code",
            "sheets.0.columns.6.codelist": "disability_categry",
            "sheets.0.title": "{townshp}残疾人两项补贴对象名册",
            "sheets.0.total.label_column": "seqq",
        },
    )
    assert (
        "mappings/CL-LXBT.yaml: sheets[0].population.from: unknown view 'persn' — did you mean 'person'?"
        in got
    )
    assert (
        "mappings/CL-LXBT.yaml: sheets[0].columns[6].expr: unknown code list 'disability_categry' — did you mean 'disability_category'?"
        in got
    )
    assert (
        "mappings/CL-LXBT.yaml: sheets[0].title: unknown template name '{townshp}' — did you mean 'township'?"
        in got
    )
    assert (
        "mappings/CL-LXBT.yaml: sheets[0].total.label_column: unknown column key 'seqq' — did you mean 'seq'?"
        in got
    )


def test_bad_yaml_names_line(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "XX-BAD.yaml").write_text("id: XX-BAD\nsheets: [\n", encoding="utf-8")
    (problem,) = check_mappings(folder)
    assert problem.code == "spec-yaml" and str(problem).startswith("mappings/XX-BAD.yaml: line ")


def test_report_without_entitlement_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    text = (MAPPINGS / "SJ-GTGSH.yaml").read_text(encoding="utf-8").replace("id: SJ-GTGSH", "id: SJ-GTGSX")
    (folder / "SJ-GTGSX.yaml").write_text(text, encoding="utf-8")
    got = [str(p) for p in check_mappings(folder)]
    assert got[0] == (
        "mappings/SJ-GTGSX.yaml: id: report 'SJ-GTGSX' has no entry in schemas/entitlements.yaml"
        " — did you mean 'SJ-GTGSH'?"
    )
    assert any("is not entitled for 市场监管 (SJ-GTGSX)" in p for p in got)

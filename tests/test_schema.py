"""The canonical model loads strictly and its cross-references hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.errors import SchemaError
from hub.model import fold, load_schema
from hub.paths import schemas_dir


def test_shipped_schema_loads_and_is_consistent() -> None:
    schema = load_schema()
    assert {"population", "disability", "dibao", "business"} <= set(schema.ledgers)
    assert schema.fields["id_number"].type == "id_number"
    assert schema.fields["disability_category"].sensitivity == "sensitive"
    # header synonyms of messy-inputs.md resolve to one field each
    syn = schema.synonyms()
    for header, field in {
        "公民身份号码": "id_number",
        "证件号码": "id_number",
        "户主身份证号": "head_id_number",
        "成员姓名": "name",
        "所属村（社区）": "village",
        "所属村(社区)": "village",
        "手机号码": "phone",
        "出生年月": "birth_date",
        "月保障金额（元）": "dibao_amount",
    }.items():
        assert syn[fold(header)] == field, header


def test_code_lists_accept_labels_and_aliases() -> None:
    schema = load_schema()
    assert schema.codelists["sex"].lookup()[fold("男性")] == "1"
    assert schema.codelists["relation"].lookup()[fold("长女")] == "30"
    assert schema.codelists["disability_level"].lookup()[fold("Ⅱ级")] == "2"
    assert schema.codelists["ethnicity"].lookup()[fold("汉")] == "01"
    assert schema.codelists["ethnicity"].label_of("22") == "畲族"


def _copy_schema(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), target)
    return target


def test_unknown_key_is_an_error_naming_file_and_field(tmp_path: Path) -> None:
    root = _copy_schema(tmp_path)
    text = (
        (root / "fields.yaml")
        .read_text(encoding="utf-8")
        .replace("    label: 姓名\n", "    label: 姓名\n    lable: x\n", 1)
    )
    (root / "fields.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_schema(root)
    assert info.value.file and info.value.file.endswith("fields.yaml")
    assert "fields.name.lable" in info.value.message


def test_unknown_codelist_and_ledger_field_are_reported_together(tmp_path: Path) -> None:
    root = _copy_schema(tmp_path)
    fields = (root / "fields.yaml").read_text(encoding="utf-8").replace("codelist: sex", "codelist: sexx")
    (root / "fields.yaml").write_text(fields, encoding="utf-8")
    ledgers = (
        (root / "ledgers.yaml")
        .read_text(encoding="utf-8")
        .replace("[uscc, business_name]", "[uscc, busines_name]")
    )
    (root / "ledgers.yaml").write_text(ledgers, encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_schema(root)
    problems = info.value.details["problems"]
    assert any("sexx" in p for p in problems)
    assert any("busines_name" in p for p in problems)

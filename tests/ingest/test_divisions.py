from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import hub.store.db as db_module
from hub.errors import IngestError
from hub.ingest import Divisions, read_divisions_csv
from hub.model import Schema
from hub.store.db import Database


def test_read_normalise_and_index(tmp: Path, schema: Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    ddl = tmp / "ddl"
    ddl.mkdir()
    shutil.copy(db_module.DDL_DIR / "10_ingest.sql", ddl)  # only the ingest stage's tables
    monkeypatch.setattr(db_module, "DDL_DIR", ddl)
    path = tmp / "d.csv"
    text = "code,name\n330727,磐安县\n330727101000,城关镇\n330727001,安文街道\n330727201,双溪乡\n330727101201,城关村\n330727101001,文溪社区\n"
    path.write_bytes(text.encode("gbk"))
    items = read_divisions_csv(path, schema)
    by = {d.code: d for d in items}
    assert (
        by["330727101"].level == "township"
        and by["330727101"].kind == "镇"
        and by["330727101"].parent == "330727"
    )
    assert by["330727001"].kind == "街道" and by["330727201"].kind == "乡"
    assert by["330727101201"].kind == "村" and by["330727101201"].parent == "330727101"
    assert by["330727101001"].kind == "社区" and by["330727"].level == "county"
    idx = Divisions(items, schema)
    assert [d.code for d in idx.resolve_township("城关")] == ["330727101"]
    assert [d.code for d in idx.resolve_township("城关镇人民政府")] == ["330727101"]
    assert [d.code for d in idx.resolve_township("330727101000")] == ["330727101"]
    assert idx.resolve_township("不存在") == []
    for text in ("城关村", "城关", "城关村委会", "城关村民委员会", " 城关村 ", "330727101201"):
        assert idx.resolve_village("330727101", text).code == "330727101201", text  # type: ignore[union-attr]
    assert idx.resolve_village("330727101", "文溪社区居委会").code == "330727101001"  # type: ignore[union-attr]
    assert idx.resolve_village("330727201", "城关村") is None
    assert [d.code for d in idx.villages("330727101")] == ["330727101001", "330727101201"]
    assert idx.name_of("330727101") == "城关镇"
    with Database(None) as db:
        idx.save(db)
        idx.save(db)  # replaces, does not duplicate
        again = Divisions.from_db(db, schema)
        assert db.scalar("SELECT count(*) FROM hub_divisions") == len(items)
    assert [d.code for d in again.townships()] == ["330727001", "330727101", "330727201"]


def test_bad_lines_listed_with_line_numbers(tmp: Path, schema: Schema) -> None:
    path = tmp / "bad.csv"
    path.write_text(
        "code,name\n330727101,城关镇\n33072710,短码\n330727101,重复\n330727201201,\nabc,名称\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError) as info:
        read_divisions_csv(path, schema)
    problems = info.value.details["problems"]
    assert [p.split("：")[0] for p in problems] == ["第3行", "第4行", "第5行", "第6行"]

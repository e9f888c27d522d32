"""One vocabulary: the model's synonyms and data-element codes live in schemas/fields.yaml and serve
the clerk's ledger and the department's draft alike; hub/admission/vocabulary.yaml keeps only what
is no ledger field (report metadata, 口径 questions)."""

from __future__ import annotations

from pathlib import Path

import yaml

from hub.model import fold, load_schema
from hub.paths import REPO_ROOT
from hub.standards.ids import id_check_char
from tests.conftest import SAMPLE, Cli


def test_a_system_export_with_data_element_codes_is_read_at_ingest(cli: Cli, tmp_path: Path) -> None:
    """A 公安 实有人口 export a township receives (headers XM, XBDM, GMSFHM… as in its 数据元 standard)
    is placed by the clerk-side recogniser from the same codes admission reads."""
    assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0
    pid = "33109919611017709" + id_check_char("33109919611017709")
    path = tmp_path / "青山镇_实有人口导出.csv"
    path.write_text(
        "XM,XBDM,GMSFHM,CSRQ,XZZ,LXDH,居住处所\n"
        f"刘国强,1,{pid},19611017,青山镇上塘村5号,18248106224,上塘村5号\n",
        encoding="utf-8",
    )
    placed, code = cli.json("columns", path, "--township", "青山镇")
    assert code == 0
    fields = {c["header"]: c["field"] for s in placed["sheets"] for c in s["columns"]}
    assert fields["XM"] == "name" and fields["XBDM"] == "sex" and fields["GMSFHM"] == "id_number"
    assert fields["CSRQ"] == "birth_date" and fields["XZZ"] == "address" and fields["LXDH"] == "phone"


def test_the_admission_vocabulary_holds_nothing_the_model_knows() -> None:
    schema = load_schema()
    known = {fold(s) for f in schema.fields.values() for s in (f.label, *f.synonyms)}
    vocab = yaml.safe_load((REPO_ROOT / "hub" / "admission" / "vocabulary.yaml").read_text(encoding="utf-8"))
    for code, header in vocab["codes"].items():
        assert code not in schema.element_codes and fold(header) not in known, code
    for item in vocab["items"]:  # an item that merely reads a field's column would be a synonym
        assert item.get("expr", "").split(".")[-1] not in {"address", "name", "phone", "id_number"}, item
    # and the model's codes name its fields
    assert (
        schema.element_codes["XBDM"] == "性别代码" and schema.element_codes["TYSHXYDM"] == "统一社会信用代码"
    )

"""Drafts built from public department forms (tests/data/admission/README.md names each source):
every column gets the class a steward would give it, and the draft that asks again for what
MZ-DIBAO delivers is flagged as its duplicate, column by column."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.admission.conftest import DRAFTS
from tests.conftest import Cli

FILES = sorted(DRAFTS.glob("*.yaml"))


# the duplicate in the fast suite, every form in `make test-all`
PARAMS = [
    pytest.param(p, id=p.stem, marks=() if p.stem == "mz_dibao_family" else pytest.mark.slow) for p in FILES
]


@pytest.mark.parametrize("path", PARAMS)
def test_public_form_classified_column_by_column(path: Path, bare: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["source"], "every draft names the public form it was built from"
    review, code = Cli().json("admission", "submit", path, "--dept", data["department"])
    assert code == 0
    got = [c["kind"] for c in review["columns"]]
    assert got == data["expected"], "\n".join(
        f"{c['header']}: {c['kind']} ({c['evidence']}), expected {e}"
        for c, e in zip(review["columns"], data["expected"], strict=True)
        if c["kind"] != e
    )
    for c in review["columns"]:
        if c["kind"] == "caliber":
            assert c["ask"] and c["question"], c["header"]  # the 口径 question, in words
        if c["kind"] == "model":
            assert c["expr"], c["header"]  # the expression the spec will use
    assert review["duplicate_of"] == data.get("duplicate_of")
    if data.get("duplicate_of"):
        flagged = [c for c in review["columns"] if data["duplicate_of"] in c["also_in"]]
        assert len(flagged) == len(review["columns"])  # every column says MZ-DIBAO already delivers it
        assert f"与已登记报表 {data['duplicate_of']} 重复" in review["summary"]
    # the text review names the same classes and questions
    text = Cli()("admission", "review", str(review["draft_id"])).stdout
    for c in review["columns"]:
        assert c["kind_label"] in text

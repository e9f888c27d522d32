"""The seven registered reports, re-submitted as drafts (their own column headers, nothing else),
are classified right, every column: derivable from the model with the expression the spec uses, or
derivable once the department answers the 口径 question the spec's expression settles (an age at a
date, a count, a yes/no, a rule, a code translation). The oracle is read from each spec's own
expression, not from the classifier."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.paths import REPO_ROOT
from tests.admission.conftest import write_draft
from tests.conftest import Cli

SPECS = sorted((REPO_ROOT / "mappings").glob("*.yaml"))
_REF = re.compile(r"\b([a-z]{1,2})\.([a-z_]+)\b")
# Where the spec refines what a department's header asks, with the reason. (report, key) → kind, view columns
REFINED: dict[tuple[str, str], tuple[str, set[str]]] = {
    # the ledger's 家庭人口; the spec counts the members it lists (the same when the household is complete)
    ("MZ-DIBAO", "size"): ("model", {"household_size"}),
    # 保障类别 is the ledger's; the spec falls back to the village kind when a household lacks it
    ("MZ-DIBAO", "category"): ("model", {"dibao_category"}),
    # 与户主关系 is the ledger's code; the spec writes 本人 on the head's own row
    ("MZ-DIBAO", "relation"): ("model", {"relation"}),
    # 残疾情况 is a translation of two codes into one text (肢体二级): a code question
    ("MZ-DIBAO", "disability"): ("caliber:code", {"category", "level"}),
}


def plain(expr: str) -> str:
    """An expression without aliases, and without the date formatting of an exchange file."""
    expr = re.sub(r"strftime\((.+?), '[^']*'\)", r"\1", expr)
    return re.sub(r"\b[a-z]{1,2}\.", "", expr)


def oracle(report: str, col: dict[str, Any], tables: set[str]) -> tuple[str, set[str]]:
    """(expected class, the view columns its expression must read) from the spec's column."""
    if (report, col["key"]) in REFINED:
        return REFINED[(report, col["key"])]
    expr = col.get("expr") or ""
    if col.get("serial") or expr.startswith("CAST(NULL") or col["header"][-1] == "备注":
        return "form", set()
    refs = {c for a, c in _REF.findall(expr) if a != "ctx"}
    if any(a in tables for a, _ in _REF.findall(expr)):  # an age band table (MZ-GAOLING)
        refs = {c for a, c in _REF.findall(expr) if a not in tables and a != "ctx"} | {"birth_date"}
    if re.search(r"\bsum\(", expr):
        return "caliber:amount", set()
    if re.search(r"\bcount\(", expr):
        return "caliber:count", refs
    if "age_on(" in expr or re.search(r"ctx\.year - year\(", expr):
        return "caliber:age", {"birth_date"}
    if expr.lstrip().upper().startswith("CASE"):
        return "caliber:" + ("flag" if col.get("codelist") == "bool" else "rule"), refs
    return "model", refs


# one report in the fast suite, all seven in `make test-all` (each is a CLI run of a few seconds)
PARAMS = [pytest.param(p, id=p.stem, marks=() if p.stem == "MZ-DIBAO" else pytest.mark.slow) for p in SPECS]


@pytest.mark.parametrize("spec_path", PARAMS)
def test_every_column_of_a_registered_report_is_classified_right(spec_path: Path, bare: Path) -> None:
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    cli = Cli()
    for n, sheet in enumerate(spec["sheets"]):
        draft = write_draft(
            bare / f"{spec['id']}_{n}.yaml", spec["title"], [{"label": c["header"]} for c in sheet["columns"]]
        )
        review, code = cli.json("admission", "submit", draft, "--dept", spec["department"])
        assert code == 0
        got = review["columns"]
        assert len(got) == len(sheet["columns"])
        for col, c in zip(sheet["columns"], got, strict=True):
            tables = {
                m
                for t in spec.get("tables", {})
                for m in re.findall(rf"\b{t}\s+([a-z]+)\b", sheet["population"]["from"])
            }  # the aliases of the spec's lookup tables (MZ-GAOLING's band b)
            kind, refs = oracle(spec["id"], col, tables)
            where = f"{spec['id']} {sheet['name']} {'/'.join(col['header'])}"
            want_kind, _, question = kind.partition(":")
            assert c["kind"] == want_kind, f"{where}: {c['kind']} ({c['evidence']}), expected {kind}"
            if question:
                assert c["question"] == question, f"{where}: question {c['question']}, expected {question}"
                assert c["ask"], where  # the question is put to the department in words
            if refs and c["expr"]:
                mine = {col_ for a, col_ in _REF.findall(c["expr"]) if a != "ctx"}
                assert mine == refs, f"{where}: reads {mine}, the spec reads {refs}"
            if want_kind == "model" and col.get("codelist") and not c["header"].endswith("代码"):
                assert c["codelist"] == col["codelist"], where
            if want_kind == "model" and (spec["id"], col["key"]) not in REFINED:
                assert plain(c["expr"]) == plain(col["expr"]), where
        # nothing of a registered report is new, and every derivable column says which reports deliver it
        assert review["counts"]["new"] == 0 and review["counts"]["shared"] == 0
        derivable = [c for c in got if c["kind"] in ("model", "caliber")]
        assert derivable and all(spec["id"] in c["also_in"] for c in derivable)
        assert review["duplicate_of"] == spec["id"]

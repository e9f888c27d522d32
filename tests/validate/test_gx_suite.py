"""The GX suite is generated from the schema, checks the data for real, and a broken expectation is
a failure of the hub (ValidationEngineError), never bad data."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hub.errors import ValidationEngineError
from hub.model import Schema, load_schema

TODAY = date(2026, 6, 1)


# its module fixture is built once: every test of the file on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("gx_suite")


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture(scope="module")
def population_run(schema: Schema) -> Any:
    import pandas as pd

    from hub.validate.gx_suite import run_suite

    df = pd.DataFrame(
        {
            "_row": [3, 4, 5, 6, 7],
            "id_number": ["11010519491231002X", "110105194912310021", "4.10102E+17", None, "110105491231002"],
            "name": ["张三", None, "李四", "王五", "赵六"],
            "sex": ["男", "X", None, "f", "女性"],
            "birth_date": ["1949-12-31", "2024-02-30", None, "1990年3月", None],
            "phone": ["13800138000", "123", None, "0371-66668888", "无"],
        }
    )
    return run_suite(df, schema, "population", today=TODAY)


def test_suite_is_generated_from_the_schema(schema: Schema) -> None:
    from hub.validate.gx_suite import build_suite

    suite = build_suite(schema, "business", today=TODAY)
    metas = [(e.meta["field"], e.meta["hub_rule"]) for e in suite.expectations]
    assert len(metas) == len(set(metas))  # one expectation per (field, rule)
    for required in schema.ledgers["business"].required:
        assert (required, "required-missing") in metas
    for name, spec in schema.fields.items():
        if spec.type == "uscc":
            assert {(name, "uscc-format"), (name, "uscc-checksum")} <= set(metas)
        if spec.type == "code" and spec.codelist:
            exp = next(e for e in suite.expectations if e.meta["field"] == name)
            assert set(exp.value_set) == set(schema.codelists[spec.codelist].lookup())
    assert all(e.meta["severity"] == schema.findings[e.meta["hub_rule"]].severity for e in suite.expectations)


def test_dibao_head_rows_satisfy_required_through_head_fields(schema: Schema) -> None:
    import pandas as pd

    from hub.validate.gx_suite import run_suite

    df = pd.DataFrame(
        {
            "_row": [3, 4, 5, 6],
            "id_number": [None, None, "11010519491231002X", None],
            "name": [None, None, "成员", "成员二"],
            "head_name": ["户主", None, None, None],
            "head_id_number": [None, "11010519491231002X", None, None],
        }
    )
    run = run_suite(df, schema, "dibao", today=TODAY)
    assert run.failures["required-missing"] == {3, 4, 6}


def test_run_reports_failing_rows_per_hub_rule(population_run: Any) -> None:
    f = population_run.failures
    assert f["id-checksum"] == {4} and f["id-precision-lost"] == {5} and f["id-legacy-converted"] == {7}
    assert f["id-format"] == set() and f["id-date-invalid"] == set()
    assert f["required-missing"] == {4, 6}  # name missing on 4, id_number on 6
    assert f["code-unknown"] == {4} and f["date-invalid"] == {4} and f["phone-invalid"] == {4}
    assert "uscc-format" not in f  # the batch has no uscc column: not checked, as in the SQL plan
    assert population_run.success is False
    stats = population_run.statistics
    assert (
        stats["evaluated_expectations"]
        == stats["successful_expectations"] + stats["unsuccessful_expectations"]
    )


def test_clean_batch_succeeds_from_an_arrow_table(schema: Schema) -> None:
    import pyarrow as pa

    from hub.validate.gx_suite import run_suite

    table = pa.table(
        {"_row": pa.array([2], pa.int32()), "id_number": ["11010519491231002X"], "name": ["张三"]}
    )
    run = run_suite(table, schema, "population", today=TODAY)
    assert run.success and all(not rows for rows in run.failures.values())


def test_broken_expectation_raises_instead_of_reporting_bad_data(schema: Schema) -> None:
    import great_expectations as gx
    import pandas as pd

    from hub.validate.gx_suite import run_suite

    suite = gx.ExpectationSuite(
        name="broken",
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(
                column="no_such_column", meta={"hub_rule": "required-missing", "field": "x"}
            )
        ],
    )
    df = pd.DataFrame({"_row": [2], "name": ["张三"], "id_number": ["11010519491231002X"]})
    with pytest.raises(ValidationEngineError) as info:
        run_suite(df, schema, "population", today=TODAY, suite=suite)
    assert "no_such_column" in info.value.message and info.value.details["hub_rule"] == "required-missing"


def test_a_check_that_raises_is_an_engine_error(schema: Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from hub.standards import phones
    from hub.validate.gx_suite import run_suite

    def boom(raw: str | None) -> tuple[list[str], bool]:
        raise RuntimeError("boom")

    monkeypatch.setattr(phones, "normalise_phones", boom)
    df = pd.DataFrame({"_row": [2], "name": ["张三"], "id_number": ["11010519491231002X"], "phone": ["138"]})
    with pytest.raises(ValidationEngineError, match="phone-invalid"):
        run_suite(df, schema, "population", today=TODAY)


def test_batch_without_row_numbers_is_refused(schema: Schema) -> None:
    import pandas as pd

    from hub.validate.gx_suite import run_suite

    with pytest.raises(ValidationEngineError):
        run_suite(pd.DataFrame({"name": ["张三"]}), schema, "population", today=TODAY)


def test_data_docs_written_offline(population_run: Any, tmp_path: Path) -> None:
    from hub.validate.gx_suite import write_data_docs

    index = write_data_docs(population_run, tmp_path / "report")
    page = index.read_text(encoding="utf-8")
    assert index == tmp_path / "report" / "index.html"
    assert "实有人口台账" in page and "id-checksum" in page and "<td>4</td>" in page
    assert "gx/expectations/hub-population.html" in page
    gx_pages = list((tmp_path / "report" / "gx" / "validations").rglob("*.html"))
    assert len(gx_pages) == 1 and gx_pages[0].relative_to(tmp_path / "report").as_posix() in page
    assert "expect_column_values_to_be_valid_cn_id_number" in gx_pages[0].read_text(encoding="utf-8")
    assert write_data_docs(population_run, tmp_path / "report") == index  # idempotent
    other = write_data_docs(population_run, tmp_path / "第二份")  # a second directory gets its own site
    assert (tmp_path / "第二份" / "gx" / "validations").is_dir() and "gx/validations/" in other.read_text(
        "utf-8"
    )


def test_importing_the_modules_does_not_import_gx() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hub.validate.gx_suite, hub.validate.annotate, hub.validate.report; "
        "assert 'great_expectations' not in sys.modules and 'openpyxl' not in sys.modules "
        "and 'pandas' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_rule_is_documented(schema: Schema) -> None:
    from hub.paths import REPO_ROOT
    from hub.validate.gx_expectations import RULES

    doc = (REPO_ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    for code in [*schema.findings, *(r for rules in RULES.values() for r in rules)]:
        assert f"`{code}`" in doc, f"docs/validation.md does not document {code}"

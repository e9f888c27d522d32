"""The great-expectations suite generated from the canonical schema, and running it.

:func:`build_suite` compiles ``schemas/`` (field types, code lists, the ledger's ``required``) into
one expectation per (field, rule), each tagged ``meta={"hub_rule": <finding code>, "field": ...}``.
:func:`run_suite` runs it over the normalised batch (``normalised_batch`` in :mod:`hub.validate`)
in an ephemeral GX context and returns a :class:`GxRun` whose ``failures`` are keyed by hub rule
code, exactly like the SQL path's ``rule_failures``: the parity test compares the two.

GX reports an expectation that broke (a missing column, a check that raised) as ``success: false``
with ``exception_info``. That is a failure of the hub, never bad data: it raises
:class:`~hub.errors.ValidationEngineError`. great-expectations is imported only inside functions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hub.errors import ValidationEngineError
from hub.model import Schema
from hub.validate.gx_expectations import RULES

#: Field type → the custom expectation checking it (rules listed in ``gx_expectations.RULES``).
TYPE_EXPECTATIONS: dict[str, str] = {
    "id_number": "ExpectColumnValuesToBeValidCnIdNumber",
    "uscc": "ExpectColumnValuesToBeValidUscc",
    "date": "ExpectColumnValuesToBeParseableDate",
    "phone": "ExpectColumnValuesToBeValidPhone",
    "code": "ExpectColumnValuesToBeInCodeList",
    "money": "ExpectColumnValuesToBeValidNumber",
    "integer": "ExpectColumnValuesToBeValidNumber",
}
REQUIRED_RULE = "required-missing"
ROW_COLUMN = "_row"


@dataclass
class GxRun:
    """The outcome of one suite run. ``failures`` maps every compiled hub rule to its failing rows."""

    kind: str
    success: bool
    statistics: dict[str, Any]
    failures: dict[str, set[int]]
    results: Any  # ExpectationSuiteValidationResult
    context: Any = field(repr=False)  # the ephemeral GX context (kept for Data Docs)
    result_ids: list[Any] = field(default_factory=list, repr=False)  # ValidationResultIdentifier


def _gx() -> Any:
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx

    return gx


def suite_plan(schema: Schema, kind: str, fields: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """The (field, hub rule) pairs the suite checks for ``kind``, restricted to ``fields`` if given."""
    if kind not in schema.ledgers:
        raise ValidationEngineError(f"未知的台账类型：{kind}", details={"kinds": sorted(schema.ledgers)})
    wanted = list(schema.fields) if fields is None else [f for f in schema.fields if f in set(fields)]
    plan: list[tuple[str, str]] = [(f, REQUIRED_RULE) for f in schema.ledgers[kind].required]
    for name in wanted:
        expectation = TYPE_EXPECTATIONS.get(schema.fields[name].type)
        if expectation:
            plan.extend((name, rule) for rule in RULES[expectation])
    return plan


def build_suite(
    schema: Schema, kind: str, *, fields: Iterable[str] | None = None, today: date | None = None
) -> Any:
    """Compile the schema into a GX ``ExpectationSuite`` named ``hub-<kind>``."""
    gx = _gx()
    from hub.validate.gx_expectations import expectation_classes

    classes = expectation_classes()
    day = (today or date.today()).isoformat()
    suite = gx.ExpectationSuite(name=f"hub-{kind}")
    for name, rule in suite_plan(schema, kind, fields):
        spec = schema.fields[name]
        meta = {"hub_rule": rule, "field": name, "label": spec.label, "severity": schema.findings[rule].severity}
        if rule == REQUIRED_RULE:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=name, meta=meta))
        elif spec.type == "code":
            assert spec.codelist is not None  # load_schema checks code fields have a code list
            spellings = sorted(set(schema.codelists[spec.codelist].lookup()))
            cls = classes[TYPE_EXPECTATIONS["code"]]
            suite.add_expectation(cls(column=name, value_set=spellings, meta=meta))
        else:
            cls = classes[TYPE_EXPECTATIONS[spec.type]]
            suite.add_expectation(cls(column=name, rule=rule, today=day, meta=meta))
    return suite


def _to_pandas(batch: Any, schema: Schema, kind: str) -> Any:
    import pandas as pd

    df = batch if isinstance(batch, pd.DataFrame) else batch.to_pandas()
    if ROW_COLUMN not in df.columns:
        raise ValidationEngineError("校验数据缺少 _row 列，无法定位行号。")
    df = df.reset_index(drop=True)
    for name in schema.ledgers[kind].required:  # a required column the sheet lacks: missing everywhere
        if name not in df.columns:
            df[name] = pd.Series([None] * len(df), dtype=object)
    return df


def _raised(exception_info: Any) -> str | None:
    """The first raised exception message in a result's ``exception_info`` (flat or per metric)."""
    if not isinstance(exception_info, dict):
        return None
    infos = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            return str(info.get("exception_message") or "unknown error")
    return None


def run_suite(
    batch: Any, schema: Schema, kind: str, *, today: date | None = None, suite: Any = None
) -> GxRun:
    """Run the schema's suite for ``kind`` over ``batch`` (pandas DataFrame or Arrow table with
    ``_row`` and one cleaned text column per field). Raises ValidationEngineError when GX broke."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    df = _to_pandas(batch, schema, kind)
    if suite is None:
        suite = build_suite(schema, kind, fields=[c for c in df.columns if c in schema.fields], today=today)
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_COLUMN]}
    try:
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = ctx.data_sources.add_pandas("hub").add_dataframe_asset(f"{kind}-batch")
        definition = asset.add_batch_definition_whole_dataframe("whole")
        suite = ctx.suites.add(suite)
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"hub-{kind}", data=definition, suite=suite))
        checkpoint = ctx.checkpoints.add(
            gx.Checkpoint(name=f"hub-{kind}", validation_definitions=[vd], result_format=result_format)
        )
        outcome = checkpoint.run(batch_parameters={"dataframe": df})
    except ValidationEngineError:
        raise
    except Exception as exc:  # GX itself failed to run: a failure of the hub
        raise ValidationEngineError(f"great-expectations 校验无法运行：{exc}") from exc
    result_ids = list(outcome.run_results)
    results = outcome.run_results[result_ids[0]]
    failures: dict[str, set[int]] = {}
    for res in results.results:
        meta = res.expectation_config.meta or {}
        rule = meta.get("hub_rule")
        problem = _raised(res.exception_info)
        if problem is not None:
            raise ValidationEngineError(
                f"校验规则 {rule}（字段 {meta.get('field')}）执行出错：{problem}",
                column=meta.get("field"),
                details={"hub_rule": rule, "expectation": res.expectation_config.type},
            )
        rows = {int(hit[ROW_COLUMN]) for hit in (res.result or {}).get("unexpected_index_list") or []}
        failures.setdefault(str(rule), set()).update(rows)
    return GxRun(
        kind=kind,
        success=bool(results.success),
        statistics=dict(results.statistics),
        failures=failures,
        results=results,
        context=ctx,
        result_ids=result_ids,
    )


def write_data_docs(run: GxRun, out_dir: Path) -> Path:
    """Build GX's file-system Data Docs for ``run`` under ``out_dir/gx`` (offline) and write
    ``out_dir/index.html``, the page the steward opens.

    GX's own index page draws its table with jQuery/bootstrap-table loaded from CDNs, so offline it
    shows nothing; its validation pages are server-rendered and readable offline. The hub's index is
    therefore a static page (:func:`hub.validate.report.render_validation_html`) summarising every
    expectation and linking to GX's validation and suite pages.
    """
    from hub.validate.report import render_validation_html

    out_dir = Path(out_dir)
    gx_dir = (out_dir / "gx").resolve()
    gx_dir.mkdir(parents=True, exist_ok=True)
    site = "hub_local_site"
    try:
        if site not in (run.context.config.data_docs_sites or {}):
            run.context.add_data_docs_site(
                site,
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(gx_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        run.context.build_data_docs(site_names=[site])
        pages = [
            entry["site_url"]
            for rid in run.result_ids
            for entry in run.context.get_docs_sites_urls(resource_identifier=rid, site_name=site)
            if entry.get("site_url")
        ]
    except Exception as exc:
        raise ValidationEngineError(f"无法生成 great-expectations 数据文档：{exc}", file=str(out_dir)) from exc
    links = [Path(p.removeprefix("file://")).resolve().relative_to(out_dir.resolve()).as_posix() for p in pages]
    rows = []
    for res in run.results.results:
        meta = res.expectation_config.meta or {}
        result = res.result or {}
        rows.append(
            {
                "field": meta.get("field"),
                "label": meta.get("label"),
                "rule": meta.get("hub_rule"),
                "severity": meta.get("severity"),
                "expectation": res.expectation_config.type,
                "success": bool(res.success),
                "element_count": result.get("element_count"),
                "unexpected_count": result.get("unexpected_count", 0),
                "rows": sorted(int(h[ROW_COLUMN]) for h in result.get("unexpected_index_list") or []),
            }
        )
    index = out_dir / "index.html"
    index.write_text(
        render_validation_html(run.kind, run.success, run.statistics, rows, links), encoding="utf-8"
    )
    return index

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
from hub.validate.gx_expectations import RULES, clear_cache

#: Field type → the custom expectation checking it (rules listed in ``gx_expectations.RULES``).
TYPE_EXPECTATIONS: dict[str, str] = {
    "id_number": "ExpectColumnValuesToBeValidCnIdNumber",
    "uscc": "ExpectColumnValuesToBeValidUscc",
    "date": "ExpectColumnValuesToBeParseableDate",
    "phone": "ExpectColumnValuesToBeValidPhone",
    "code": "ExpectColumnValuesToBeInCodeList",
    "money": "ExpectColumnValuesToBeValidNumber",
    "integer": "ExpectColumnValuesToBeValidInteger",
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
    plan += [(f, REQUIRED_RULE) for f in _fact_claims(schema, kind, wanted) if (f, REQUIRED_RULE) not in plan]
    return plan


def _fact_claims(schema: Schema, kind: str, present: Iterable[str]) -> dict[str, list[str]]:
    """Required field of a fact → the fields whose being filled claims it, for the facts a sheet with
    ``present`` fields can claim (``ledgers.yaml`` ``facts``), beyond the ledger's own ``required``."""
    present = set(present)
    own = set(schema.ledgers[kind].required)
    out: dict[str, list[str]] = {}
    for fact in schema.facts.values():
        claims = [f for f in fact.when_any if f in present]
        if claims:
            for req in fact.required:
                if req not in own:
                    out.setdefault(req, []).extend(c for c in claims if c not in out.get(req, []))
    return out


def _head_roles(schema: Schema, kind: str) -> dict[str, str]:
    """Member field → household-head field (``role_groups``) for ledgers whose rows are memberships:
    a head row (no member name and ID, but head fields) satisfies ``required`` through the head's."""
    if schema.ledgers[kind].row_entity != "membership":
        return {}
    return {
        member: head
        for group in schema.role_groups
        for member, head in group.fields.items()
        if head in schema.fields and schema.fields[head].entity == "household"
    }


def _required_checks(
    schema: Schema, kind: str, name: str, present: Iterable[str] = ()
) -> list[tuple[str, Any]]:
    """(column, row condition) pairs whose not-null checks together make ``required-missing``."""
    from great_expectations.expectations.row_conditions import (
        AndCondition,
        Column,
        OrCondition,
    )

    claims = _fact_claims(schema, kind, present).get(name)
    if claims and name not in schema.ledgers[kind].required:
        return [(name, OrCondition(conditions=[Column(c).is_not_null() for c in claims]))]
    roles = _head_roles(schema, kind)
    if name not in roles:
        return [(name, None)]

    members, heads = list(roles), list(roles.values())
    no_member = [Column(m).is_null() for m in members]
    is_head = OrCondition(
        conditions=[AndCondition(conditions=[*no_member, Column(h).is_not_null()]) for h in heads]
    )
    not_head = OrCondition(
        conditions=[
            *(Column(m).is_not_null() for m in members),
            AndCondition(conditions=[Column(h).is_null() for h in heads]),
        ]
    )
    return [(name, not_head), (roles[name], is_head)]


def build_suite(
    schema: Schema, kind: str, *, fields: Iterable[str] | None = None, today: date | None = None
) -> Any:
    """Compile the schema into a GX ``ExpectationSuite`` named ``hub-<kind>``."""
    gx = _gx()
    from hub.validate.gx_expectations import expectation_classes

    classes = expectation_classes()
    day = (today or date.today()).isoformat()
    expectations: list[Any] = []
    wanted_fields = list(schema.fields) if fields is None else list(fields)
    for name, rule in suite_plan(schema, kind, fields):
        spec = schema.fields[name]
        meta = {
            "hub_rule": rule,
            "field": name,
            "label": spec.label,
            "severity": schema.findings[rule].severity,
        }
        if rule == REQUIRED_RULE:
            for column, condition in _required_checks(schema, kind, name, wanted_fields):
                expectations.append(
                    gx.expectations.ExpectColumnValuesToNotBeNull(
                        column=column, row_condition=condition, meta=meta
                    )
                )
        elif spec.type == "code":
            assert spec.codelist is not None  # load_schema checks code fields have a code list
            spellings = sorted(set(schema.codelists[spec.codelist].lookup()))
            cls = classes[TYPE_EXPECTATIONS["code"]]
            expectations.append(cls(column=name, value_set=spellings, meta=meta))
        else:
            cls = classes[TYPE_EXPECTATIONS[spec.type]]
            expectations.append(cls(column=name, rule=rule, today=day, meta=meta))
    return gx.ExpectationSuite(name=f"hub-{kind}", expectations=expectations)


def _to_pandas(batch: Any, schema: Schema) -> tuple[Any, list[str]]:
    """(DataFrame with every schema field as a column, the fields the batch really has)."""
    import pandas as pd

    df = batch if isinstance(batch, pd.DataFrame) else batch.to_pandas()
    if ROW_COLUMN not in df.columns:
        raise ValidationEngineError("校验数据缺少 _row 列，无法定位行号。")
    present = [f for f in schema.fields if f in df.columns]
    df = df.reset_index(drop=True)
    for name in schema.fields:  # a field the sheet lacks is empty on every row (as in the SQL pass)
        if name not in df.columns:
            df[name] = pd.Series([None] * len(df), dtype=object)
    return df, present


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

    df, present = _to_pandas(batch, schema)
    if suite is None:  # as in the SQL plan: checks on a field the sheet lacks are dropped, but not required
        suite = build_suite(schema, kind, fields=present, today=today)
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_COLUMN]}
    try:
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = ctx.data_sources.add_pandas("hub").add_dataframe_asset(f"{kind}-batch")
        definition = asset.add_batch_definition_whole_dataframe("whole")
        suite = ctx.suites.add(suite)
        vd = ctx.validation_definitions.add(
            gx.ValidationDefinition(name=f"hub-{kind}", data=definition, suite=suite)
        )
        checkpoint = ctx.checkpoints.add(
            gx.Checkpoint(name=f"hub-{kind}", validation_definitions=[vd], result_format=result_format)
        )
        clear_cache()
        outcome = checkpoint.run(batch_parameters={"dataframe": df})
    except ValidationEngineError:
        raise
    except Exception as exc:  # GX itself failed to run: a failure of the hub
        raise ValidationEngineError(f"great-expectations 校验无法运行：{exc}") from exc
    finally:
        clear_cache()
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
    """Write the steward's HTML validation report for ``run`` under ``out_dir`` (GX's file-system
    Data Docs in ``out_dir/gx``, offline) and return ``out_dir/index.html``, the page to open.
    See :func:`hub.validate.report.write_gx_report`."""
    from hub.validate.report import write_gx_report

    return write_gx_report(run, Path(out_dir))

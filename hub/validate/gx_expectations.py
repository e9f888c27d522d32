"""Custom great-expectations (1.x) column-map expectations for the hub's rules with no built-in.

Each expectation is implemented on the Pandas execution engine by calling the pure-Python reference
checks in :mod:`hub.standards`, an implementation independent of the SQL compiled by
:mod:`hub.validate.rules`. That independence is what makes the SQL/GX parity test meaningful.

Every expectation takes a ``rule`` (a finding code of ``schemas/findings.yaml``): a value is
*unexpected* when the reference check reports exactly that code for it, so one expectation maps to
one hub rule and its failing ``_row`` s are that rule's failures. Nulls are not evaluated (GX skips
them for map metrics); ``required-missing`` is the built-in ``expect_column_values_to_not_be_null``.

great-expectations is imported inside :func:`expectation_classes` (cached), never at module import,
so importing this module costs nothing at CLI start-up. Classes register themselves with GX's
registry when they are created, which is why they are built inside that function.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

#: Finding codes each custom expectation can check, keyed by the expectation's class name.
RULES: dict[str, tuple[str, ...]] = {
    "ExpectColumnValuesToBeValidCnIdNumber": (
        "id-format",
        "id-checksum",
        "id-precision-lost",
        "id-date-invalid",
        "id-legacy-converted",
    ),
    "ExpectColumnValuesToBeValidUscc": ("uscc-format", "uscc-checksum"),
    "ExpectColumnValuesToBeParseableDate": ("date-invalid",),
    "ExpectColumnValuesToBeValidPhone": ("phone-invalid",),
    "ExpectColumnValuesToBeValidNumber": ("number-invalid",),
    "ExpectColumnValuesToBeValidInteger": ("number-invalid",),
    "ExpectColumnValuesToBeInCodeList": ("code-unknown",),
}


def _id_code(value: str, today: date) -> str | None:
    from hub.standards.ids import check_id

    return check_id(value, today).code


def _uscc_code(value: str, today: date) -> str | None:
    from hub.standards.uscc import check_uscc

    return check_uscc(value).code


def _date_code(value: str, today: date) -> str | None:
    from hub.standards.dates import parse_date
    from hub.standards.text import clean_text

    parsed, _precision = parse_date(value)
    return "date-invalid" if parsed is None and clean_text(value) is not None else None


def _phone_code(value: str, today: date) -> str | None:
    from hub.standards.phones import normalise_phones

    _numbers, ok = normalise_phones(value)
    return None if ok else "phone-invalid"


def _number_code(value: str, today: date) -> str | None:
    from hub.standards.numbers import parse_number

    _number, ok = parse_number(value)
    return None if ok else "number-invalid"


def _integer_code(value: str, today: date) -> str | None:
    from hub.standards.numbers import parse_number

    number, ok = parse_number(value)
    integral = number is None or number == number.to_integral_value()
    return None if ok and integral else "number-invalid"


#: Class name → the reference check giving a value's finding code (None when it passes).
_CHECKS: dict[str, Callable[[str, date], str | None]] = {
    "ExpectColumnValuesToBeValidCnIdNumber": _id_code,
    "ExpectColumnValuesToBeValidUscc": _uscc_code,
    "ExpectColumnValuesToBeParseableDate": _date_code,
    "ExpectColumnValuesToBeValidPhone": _phone_code,
    "ExpectColumnValuesToBeValidNumber": _number_code,
    "ExpectColumnValuesToBeValidInteger": _integer_code,
}

# GX evaluates a map condition several times per expectation (count, index list, values) and the
# id rules share one check: each distinct value is checked once per run. run_suite clears this.
_CODES: dict[tuple[str, str], dict[str, str | None]] = {}


def clear_cache() -> None:
    _CODES.clear()


def codes_for(class_name: str, today: str, values: Any) -> dict[str, str | None]:
    """Memoised ``value → finding code`` of the reference check, covering every value given."""
    memo = _CODES.setdefault((class_name, today), {})
    check, day = _CHECKS[class_name], date.fromisoformat(today)
    for value in values:
        if value not in memo:
            memo[value] = check(value, day)
    return memo


def _metric_name(class_name: str) -> str:
    return "column_values.hub_" + class_name.removeprefix("ExpectColumnValuesTo").lower()


@lru_cache(maxsize=1)
def expectation_classes() -> dict[str, type[Any]]:
    """Create (once) and return the hub's custom expectation classes, keyed by class name."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

    classes: dict[str, type[Any]] = {}

    def make_rule_check(class_name: str) -> type[Any]:
        metric = _metric_name(class_name)

        def _pandas(cls: Any, column: Any, rule: str, today: str, **kwargs: Any) -> Any:
            texts = column.astype(str)
            codes = texts.map(codes_for(class_name, today, texts.unique()))
            return (codes != rule).astype(bool)

        provider_ns = {
            "condition_metric_name": metric,
            "condition_value_keys": ("rule", "today"),
            "_pandas": column_condition_partial(engine=PandasExecutionEngine)(_pandas),
        }
        type(f"{class_name}Metric", (ColumnMapMetricProvider,), provider_ns)
        allowed = RULES[class_name]

        namespace: dict[str, Any] = {
            "__annotations__": {"rule": str, "today": str},
            "map_metric": metric,
            "success_keys": ("rule", "today", "mostly"),
            "__doc__": f"Hub rule check; ``rule`` is one of {', '.join(allowed)}.",
        }
        return type(class_name, (ColumnMapExpectation,), namespace)

    for name in _CHECKS:
        classes[name] = make_rule_check(name)
    classes["ExpectColumnValuesToBeInCodeList"] = _code_list_class(
        ColumnMapExpectation, ColumnMapMetricProvider, column_condition_partial, PandasExecutionEngine
    )
    return classes


def _code_list_class(base: Any, provider: Any, partial: Any, engine: Any) -> type[Any]:
    """A value is expected when its folded spelling (:func:`hub.model.fold`) is one of ``value_set``
    (the folded codes, labels and aliases of the field's code list)."""
    name = "ExpectColumnValuesToBeInCodeList"
    metric = _metric_name(name)

    def _pandas(cls: Any, column: Any, value_set: list[str], **kwargs: Any) -> Any:
        from hub.model import fold

        accepted = frozenset(value_set)
        return column.map(lambda v: fold(str(v)) in accepted).astype(bool)

    type(
        f"{name}Metric",
        (provider,),
        {
            "condition_metric_name": metric,
            "condition_value_keys": ("value_set",),
            "_pandas": partial(engine=engine)(_pandas),
        },
    )
    return type(
        name,
        (base,),
        {
            "__annotations__": {"value_set": list[str]},
            "map_metric": metric,
            "success_keys": ("value_set", "mostly"),
            "__doc__": "Hub rule check for code-unknown: folded spelling in the code list.",
        },
    )

"""Report parameters: the reference date rules and the one-row ``ctx`` relation specs read.

Every expression may read ``ctx.<name>``: report_date, ref_date, period_start (first day of month M),
prev_month_end, year, month, day, quarter, year_start, year_end, township_code, township_name,
county_name, and the spec's own ``params``. They become literals in a ``ctx`` CTE, so the compiled
query is self-contained and transpiles to any dialect.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from sqlglot import exp

from hub.export.spec import RefRule, Spec

CTX_COLUMNS = [
    "report_date",
    "ref_date",
    "period_start",
    "prev_month_end",
    "year",
    "month",
    "day",
    "quarter",
    "year_start",
    "year_end",
    "township_code",
    "township_name",
    "county_name",
]


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def reference_date(rule: RefRule, d: dt.date) -> dt.date:
    if rule == "month_end":
        return month_end(d.year, d.month)
    if rule == "quarter_end":
        return month_end(d.year, ((d.month - 1) // 3 + 1) * 3)
    if rule == "year_end":
        return dt.date(d.year, 12, 31)
    if rule == "previous_month_end":
        return d.replace(day=1) - dt.timedelta(days=1)
    return d


def context(
    spec: Spec, report_date: dt.date, township: str | None, township_name: str, county_name: str
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "report_date": report_date,
        "ref_date": reference_date(spec.reference_date, report_date),
        "period_start": report_date.replace(day=1),
        "prev_month_end": report_date.replace(day=1) - dt.timedelta(days=1),
        "year": report_date.year,
        "month": report_date.month,
        "day": report_date.day,
        "quarter": (report_date.month - 1) // 3 + 1,
        "year_start": dt.date(report_date.year, 1, 1),
        "year_end": dt.date(report_date.year, 12, 31),
        "township_code": township,
        "township_name": township_name,
        "county_name": county_name,
    }
    values.update(spec.params)
    return values


def template_values(ctx: dict[str, Any]) -> dict[str, Any]:
    """Names a title / meta / footer template may use: {township} {county} {Y} {M} {D} {Q} {ref_*}."""
    ref: dt.date = ctx["ref_date"]
    return {
        "township": ctx["township_name"],
        "county": ctx["county_name"],
        "Y": ctx["year"],
        "M": ctx["month"],
        "D": ctx["day"],
        "Q": ctx["quarter"],
        "ref_Y": ref.year,
        "ref_M": ref.month,
        "ref_D": ref.day,
        **{k: v for k, v in ctx.items() if k not in CTX_COLUMNS},
    }


def literal(value: Any) -> exp.Expr:
    if value is None:
        return exp.cast(exp.null(), "VARCHAR")
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


#: ctx columns bound at execution (``$township_code``…), not compiled in: one compiled spec serves
#: every township of an export, with the township passed as a query parameter.
BOUND = ("township_code", "township_name")


def bound_params(township: str | None, township_name: str) -> dict[str, Any]:
    return {"township_code": township, "township_name": township_name}


def ctx_select(ctx: dict[str, Any]) -> exp.Select:
    def column(key: str, value: Any) -> exp.Expr:
        if key in BOUND:
            return exp.cast(exp.Placeholder(this=key), "VARCHAR")
        return literal(value)

    return exp.select(*(exp.alias_(column(k, v), k) for k, v in ctx.items()))

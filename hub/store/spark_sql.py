"""Dialect data of the Spark engine: the store's DuckDB statements as Spark SQL.

sqlglot's ``spark`` dialect, with what the hub's set-based SQL needs of it:

* ``QUALIFY`` is kept (Spark 4 has it). sqlglot's Spark generator rewrites it into a subquery that
  selects ``*, <the qualify columns>`` again, which repeats a column when the inner select lists it
  after a star (``r.* EXCLUDE (accepted), kt.submitted_at``) and Spark then refuses the reference.
* ``list(x ORDER BY a DESC, b)`` (an ordered list aggregate) becomes a ``collect_list`` of structs
  sorted by a comparator: Spark's ``collect_list`` takes no ``ORDER BY`` and sqlglot drops it.
* ``arg_max(x, k)`` / ``arg_min`` skip the rows where ``x`` is NULL, as DuckDB's do (Spark's
  ``max_by`` would return the NULL of the latest row: a source that left a field empty must not win it).
* ``to_json`` keeps NULL fields (``{"file": null}``), as DuckDB writes them.
* ``JSON`` columns are Spark strings.
* A ranking window (``row_number() OVER …``, ``rank``, ``dense_rank``, ``ntile``) is cast to BIGINT,
  DuckDB's type: Spark's INT wraps in the merge's recency key (``sub_rank << 40``), which then
  ranked a later submission below an earlier one whenever their row numbers differed by more than
  256 (seen at 100,000 persons, not on the sample data).
* The list functions of the linkage comparisons (:mod:`hub.dedupe.linkage.chinese`): ``list_intersect``
  is ``array_intersect``, and ``len`` of a list is ``size`` (``len`` of text stays ``length``).
* ``damerau_levenshtein(a, b) <= 1`` (or ``<= 0``) is plain Spark SQL: Spark has ``levenshtein``
  but no Damerau distance, and Splink's Spark UDF for it lives in a jar the session would have to
  load; at most one edit is ``levenshtein(a, b) <= 1``, or the same length and two adjacent
  characters swapped (``exists`` over the positions). Another use of ``damerau_levenshtein`` is
  refused (:class:`sqlglot.errors.UnsupportedError`).

Every identifier is quoted (``identify=True``): Spark refuses unquoted non-ASCII names.
"""

from __future__ import annotations

from sqlglot import exp, transforms
from sqlglot.dialects.spark import Spark
from sqlglot.errors import UnsupportedError
from sqlglot.generators.spark import SparkGenerator

DIALECT = "hubspark"


def _ordered_list(self: SparkGenerator, e: exp.ArrayAgg) -> str:
    order = e.this
    if not isinstance(order, exp.Order):
        return self.func("COLLECT_LIST", e.this)
    keys = list(order.expressions)
    fields = [f"{self.sql(k.this)} AS `k{i}`" for i, k in enumerate(keys)]
    value = self.sql(order.this)
    cases = []
    for i, k in enumerate(keys):
        lo, hi = ("1", "-1") if k.args.get("desc") else ("-1", "1")
        left, right = f"l.`k{i}`", f"r.`k{i}`"
        cases.append(f"WHEN {left} IS NULL AND {right} IS NOT NULL THEN 1")
        cases.append(f"WHEN {left} IS NOT NULL AND {right} IS NULL THEN -1")
        cases.append(f"WHEN {left} < {right} THEN {lo} WHEN {left} > {right} THEN {hi}")
    comparator = f"(l, r) -> CASE {' '.join(cases)} ELSE 0 END"
    items = f"COLLECT_LIST(STRUCT({', '.join(fields)}, {value} AS `v`))"
    return f"TRANSFORM(ARRAY_SORT({items}, {comparator}), e -> e.`v`)"


def _arg_extreme(name: str):  # type: ignore[no-untyped-def]
    def render(self: SparkGenerator, e: exp.Expr) -> str:
        value, order = self.sql(e.this), self.sql(e.expression)
        return f"{name}({value}, CASE WHEN {value} IS NOT NULL THEN {order} END)"

    return render


def _to_json(self: SparkGenerator, e: exp.Expr) -> str:
    args = [self.sql(a) for a in e.expressions]
    return f"TO_JSON({', '.join(args)}, MAP('ignoreNullFields', 'false'))"


def _anonymous(self: SparkGenerator, e: exp.Anonymous) -> str:
    name = e.name.lower()
    if name == "to_json" and len(e.expressions) == 1:
        return _to_json(self, e)
    if name == "list_intersect":
        return self.func("ARRAY_INTERSECT", *e.expressions)
    if name == "damerau_levenshtein":
        raise UnsupportedError("damerau_levenshtein: Spark 只支持 damerau_levenshtein(a, b) <= 0 或 <= 1")
    return SparkGenerator.anonymous_sql(self, e)


_RANKING = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile)
_LISTS = (exp.Array, exp.Split, exp.ArrayIntersect, exp.ArrayConcat)


def _length(self: SparkGenerator, e: exp.Length) -> str:
    """``len`` of a list is its size; of text, its length."""
    arg = e.this
    is_list = isinstance(arg, _LISTS) or (
        isinstance(arg, exp.Anonymous) and arg.name.lower().startswith(("list_", "array_"))
    )
    return self.func("SIZE" if is_list else "LENGTH", arg)


def _at_most(self: SparkGenerator, e: exp.LTE) -> str:
    """``damerau_levenshtein(a, b) <= k`` for k of 0 or 1, in plain Spark SQL."""
    call, bound = e.this, e.expression
    if not (isinstance(call, exp.Anonymous) and call.name.lower() == "damerau_levenshtein"):
        return self.binary(e, "<=")
    if not (isinstance(bound, exp.Literal) and bound.name in ("0", "1")) or len(call.expressions) != 2:
        raise UnsupportedError("damerau_levenshtein: Spark 只支持 damerau_levenshtein(a, b) <= 0 或 <= 1")
    a, b = (self.sql(x) for x in call.expressions)
    if bound.name == "0":
        return f"({a} = {b})"
    swapped = f"CONCAT(SUBSTR({a}, 1, i - 1), SUBSTR({a}, i + 1, 1), SUBSTR({a}, i, 1), SUBSTR({a}, i + 2))"
    return (
        f"(LEVENSHTEIN({a}, {b}) <= 1 OR (LENGTH({a}) = LENGTH({b}) AND LENGTH({a}) > 1 "
        f"AND EXISTS(SEQUENCE(1, LENGTH({a}) - 1), i -> {swapped} = {b})))"
    )


class HubSparkGenerator(SparkGenerator):
    TRANSFORMS = {
        **SparkGenerator.TRANSFORMS,
        exp.Select: transforms.preprocess(
            [transforms.eliminate_distinct_on, transforms.unnest_to_explode, transforms.any_to_exists]
        ),
        exp.ArrayAgg: _ordered_list,
        exp.ArgMax: _arg_extreme("MAX_BY"),
        exp.ArgMin: _arg_extreme("MIN_BY"),
        exp.JSONFormat: _to_json,
        exp.Length: _length,
        exp.LTE: _at_most,
    }
    TYPE_MAPPING = {**SparkGenerator.TYPE_MAPPING, exp.DataType.Type.JSON: "STRING"}

    def anonymous_sql(self, expression: exp.Anonymous) -> str:
        return _anonymous(self, expression)

    def window_sql(self, expression: exp.Window) -> str:
        """A ranking window (``row_number``, ``rank``, ``dense_rank``, ``ntile``) is a BIGINT, as in
        DuckDB: Spark's are INT, and the merge's recency key shifts one by 40 bits (Java wraps an
        INT's shift at 32: ``sub_rank << 40`` would be ``sub_rank << 8``)."""
        sql = super().window_sql(expression)
        return f"CAST({sql} AS BIGINT)" if isinstance(expression.this, _RANKING) else sql


class HubSpark(Spark):
    """Registered with sqlglot as ``hubspark``."""

    Generator = HubSparkGenerator


def to_spark(tree: exp.Expr) -> str:
    """One parsed DuckDB statement (or expression) in Spark SQL, every identifier quoted."""
    return tree.sql(dialect=DIALECT, identify=True)

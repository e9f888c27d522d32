"""DuckDB statements run on Spark (:class:`SparkStatements`): what a stage written as set-based
DuckDB SQL (the merge's :func:`hub.dedupe.merge.merge_tables`) needs of an engine, the
:class:`hub.store.engine.Statements` protocol.

Each statement is parsed from DuckDB's dialect and rendered for Spark (:mod:`hub.store.spark_sql`),
with its ``$name`` / ``?`` parameters bound as literals. The tables are Spark temporary views of
DataFrames: a ``CREATE TEMP TABLE/VIEW … AS`` is a plan, not yet computed (fused into the plan of
whatever reads it), an ``INSERT`` appends (columns by position, cast to the table's types), a
``CREATE TABLE`` with columns is an empty DataFrame of that schema, ``DROP`` forgets the name.
**Checkpoints only where a table is read several times:** the stage is first run dry
(:func:`forecast_reads`: every statement parsed, nothing computed, each scalar answered 1 so that
every branch is taken) to count how often each version of each relation (a ``CREATE`` or an
``INSERT`` makes one) is read before it is replaced; on the real run a table read two or more
times is computed at once and its lineage cut (``localCheckpoint``), one read once stays a plan
fused into its reader's, so it costs no job of its own. A table read more often than forecast
is computed when read the second time. **A view is never computed ahead**: as on DuckDB, each
reader computes it (the merge's views, ``_m_rows`` and the entities' source rows, are filters and
projections of the stored rows: a scan of the columns the reader needs each time costs less than
keeping a million wide rows; at 1M persons the merge's statements took 58 s instead of 90 s); a
table still a plan that a view reads is computed first when the forecast says the view is read
more than once (each reader of the view would compute it again). A CTE read more than once in
one statement is computed once (Spark inlines a CTE into every reader), unless it only filters or
projects one stored table or view (``r AS (SELECT * FROM _m_rows)``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlglot
from sqlglot import exp

from hub.errors import StoreError
from hub.store.engine import Params
from hub.store.spark_sql import to_spark


class SparkStatements:
    """DuckDB statements run on Spark: the tables are Spark temporary views of DataFrames."""

    def __init__(
        self, spark: Any, tables: dict[str, Any], forecast: dict[tuple[str, int], int] | None = None
    ):
        self.spark = spark
        self.tables: dict[str, Any] = {}
        self.plans: dict[str, int] = {}  # relation not yet computed → how many times it was read
        self.checkpoints = 0  # relations computed ahead of their readers (for the tests and timings)
        self.forecast = forecast or {}  # (relation, version) → reads (forecast_reads)
        self.versions: dict[str, int] = {}
        for name, df in tables.items():
            self._set(name, df)

    # -- the Statements protocol (hub.store.engine) --------------------------------------------
    def execute(self, query: str, params: Params = None) -> None:
        for tree in sqlglot.parse(query, read="duckdb"):
            if tree is not None:
                self._run(tree, params)

    def scalar(self, query: str, params: Params = None) -> Any:
        result: Any = None
        for tree in sqlglot.parse(query, read="duckdb"):
            if tree is not None:
                result = self._run(tree, params, count=True)
        if result is None or isinstance(result, int):
            return result  # an INSERT: how many rows, as DuckDB answers
        row = result.first()
        return None if row is None else row[0]

    # -- tables ----------------------------------------------------------------------------------
    def frame(self, name: str) -> Any:
        return self.tables[name]

    def close(self) -> None:
        for name in list(self.tables):
            self._drop(name)

    def _set(self, name: str, df: Any, plan: bool = False, view: bool = False) -> None:
        if plan:  # a new version of ``name``: computed now if it will be read more than once
            self.versions[name] = version = self.versions.get(name, 0) + 1
            if not view and self.forecast.get((name, version), 0) >= 2:
                df, plan = df.localCheckpoint(eager=True), False
                self.checkpoints += 1
        df.createOrReplaceTempView(name)
        self.tables[name] = df
        self.plans.pop(name, None)
        if plan and not view:
            self.plans[name] = 0

    def _drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self.tables.pop(name, None)
        self.plans.pop(name, None)

    def _checkpoint(self, name: str) -> None:
        df = self.tables[name].localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self.tables[name] = df
        self.plans.pop(name, None)
        self.checkpoints += 1

    def _read(self, tree: exp.Expr, times: int = 1) -> None:
        """Count the reads of tables not yet computed (``times`` each: a view's definition is read
        by each of the view's readers); one read again is computed now."""
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            name = table.name
            if name in self.plans and name not in ctes and not table.args.get("db"):
                self.plans[name] += times
                if self.plans[name] >= 2:
                    self._checkpoint(name)

    def _run(self, tree: exp.Expr, params: Params, count: bool = False) -> Any:
        if isinstance(tree, exp.Drop):
            for table in tree.args.get("tables") or [tree.this]:
                self._drop(table.name)
            return None
        if isinstance(tree, exp.Create):
            return self._create(tree, params)
        if isinstance(tree, exp.Insert):
            return self._insert(tree, params, count)
        if isinstance(tree, exp.Query):
            return self._df(tree, params)
        raise StoreError(f"Spark 引擎不能执行此语句（{tree.key}）：{tree.sql(dialect='duckdb')[:200]}")

    def _create(self, tree: exp.Create, params: Params) -> None:
        target = tree.this
        name = (target.this if isinstance(target, exp.Schema) else target).name
        if tree.args.get("exists") and name in self.tables:
            return
        if tree.expression is not None:
            # a table or a view: a plan, fused into its first reader's; computed on its own when
            # read again (``_read``). Either way a snapshot of what it reads now, as the
            # statements expect of a table (a view of the merge is never read after its sources change)
            view = str(tree.args.get("kind", "")).upper() == "VIEW"
            # a view's readers each compute it, and with it the tables it reads that are still
            # plans: those are computed first if the forecast says the view is read more than once
            times = max(self.forecast.get((name, self.versions.get(name, 0) + 1), 1), 1) if view else 1
            df = self._df(tree.expression, params, times=times)
            self._set(name, df, plan=True, view=view)
            return
        columns = [c for c in target.expressions if isinstance(c, exp.ColumnDef)]
        schema = ", ".join(f"{to_spark(c.this)} {to_spark(c.args['kind'])}" for c in columns)
        self._set(name, self.spark.createDataFrame([], schema))

    def _insert(self, tree: exp.Insert, params: Params, count: bool) -> int | None:
        """Append the rows of the INSERT's query; ``count``: say how many (as DuckDB answers)."""
        target = tree.this
        name = (target.this if isinstance(target, exp.Schema) else target).name
        table = self.tables[name]
        new = self._df(tree.expression, params)
        given = (
            [c.name for c in target.expressions] if isinstance(target, exp.Schema) else list(table.columns)
        )
        new = new.toDF(*given)  # INSERT matches columns by position
        types = dict(table.dtypes)
        new = new.selectExpr(
            *[f"CAST({f'`{c}`' if c in given else 'NULL'} AS {types[c]}) AS `{c}`" for c in table.columns]
        )
        # the union stays a plan (computed when read twice, or written), like a created table
        self._set(name, table.unionByName(new), plan=True)
        return int(new.count()) if count else None

    def _df(self, tree: exp.Expr, params: Params, times: int = 1) -> Any:
        tree = _bind(tree.copy(), params)
        self._read(tree, times)
        scratch: list[str] = []
        try:
            for with_ in [w for w in tree.find_all(exp.With) if not _in_cte(w)]:
                self._materialise_ctes(tree, with_, scratch)
            return self.spark.sql(to_spark(tree))  # analysed now: the names may go
        finally:
            for name in scratch:
                self._drop(name)

    def _materialise_ctes(self, tree: exp.Expr, with_: exp.With, scratch: list[str]) -> None:
        """Each CTE of ``with_`` read more than once computed once as a temporary table, its
        readers renamed to it: Spark inlines a CTE into every place that reads it (the provenance
        query reads one 16 times, once per field, each a window over every row). A CTE read once
        stays inline (in the CTE that reads it, if that one is computed)."""
        scope = with_.parent or tree
        defined = {c.alias for c in tree.find_all(exp.CTE)}
        kept: list[exp.CTE] = []
        for cte in list(with_.expressions):
            readers = [t for t in scope.find_all(exp.Table) if _reads(t, cte.alias, with_)]
            if len(readers) < 2 or _plain(cte.this, {*self.plans, *defined}):
                kept.append(cte)
                continue
            body = cte.this.copy()
            inline = [
                k.copy() for k in kept if any(_reads(t, k.alias, with_) for t in cte.this.find_all(exp.Table))
            ]
            if inline:
                body.set("with_", exp.With(expressions=inline))
            name = f"_cte_{uuid.uuid4().hex[:8]}_{cte.alias}"
            self._set(name, self.spark.sql(to_spark(body)).localCheckpoint(eager=True))
            self.checkpoints += 1
            scratch.append(name)
            for table in readers:
                table.replace(exp.to_table(name).as_(table.alias_or_name))
        if kept:
            with_.set("expressions", kept)
        else:
            with_.pop()


def _plain(body: exp.Expr, pending: set[str]) -> bool:
    """A CTE that only filters or projects one relation (``r AS (SELECT * FROM _m_rows)``), a
    stored table or a view, not a table still a plan nor another CTE (``pending``): each reader
    computing it again costs a scan, less than computing it once and keeping its rows."""
    source = body.args.get("from_") if isinstance(body, exp.Select) else None
    if source is None or not isinstance(source.this, exp.Table) or source.this.name in pending:
        return False
    if any(body.args.get(k) for k in ("joins", "group", "having", "qualify", "distinct", "with_")):
        return False
    inner = (n for n in body.find_all(exp.Window, exp.AggFunc, exp.Query) if n is not body)
    return next(inner, None) is None


def _in_cte(node: exp.Expr) -> bool:
    return any(isinstance(a, exp.CTE) for a in _ancestors(node))


def _ancestors(node: exp.Expr) -> list[exp.Expr]:
    out = []
    parent = node.parent
    while parent is not None:
        out.append(parent)
        parent = parent.parent
    return out


def _reads(table: exp.Table, name: str, with_: exp.With) -> bool:
    return table.name == name and not table.args.get("db") and _defined_by(table, with_)


def _defined_by(table: exp.Table, with_: exp.With) -> bool:
    """``table`` names a CTE of ``with_``, not one of the same name of a WITH nested closer to it."""
    for node in _ancestors(table):
        if node is with_.parent:
            return True
        inner = node.args.get("with") or node.args.get("with_")
        if (
            isinstance(inner, exp.With)
            and inner is not with_
            and any(c.alias == table.name for c in inner.expressions)
        ):
            return False
    return False


def _bind(tree: exp.Expr, params: Params) -> exp.Expr:
    """``$name`` / ``?`` parameters as literals of the statement (Spark binds neither in DDL)."""
    if not params:
        return tree
    positional = iter(params) if not isinstance(params, dict) else None

    def literal(value: Any) -> exp.Expr:
        if value is None:
            return exp.Null()
        if isinstance(value, bool):
            return exp.Boolean(this=value)
        if isinstance(value, int | float):
            return exp.Literal.number(value)
        if isinstance(value, datetime):
            return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("timestamp"))
        return exp.Literal.string(str(value))

    def bind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            if positional is not None:
                return literal(next(positional))
            assert isinstance(params, dict)
            return literal(params[node.name])
        return node

    return tree.transform(bind)


class _Forecast:
    """A dry run of a stage's statements (the :class:`hub.store.engine.Statements` protocol): nothing
    computed; counts the reads of each version of each relation it creates or inserts into."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.reads: dict[tuple[str, int], int] = {}

    def execute(self, query: str, params: Params = None) -> None:
        for tree in sqlglot.parse(query, read="duckdb"):
            if tree is None or isinstance(tree, exp.Drop):
                continue
            body = tree.expression if isinstance(tree, exp.Create | exp.Insert) else tree
            if body is not None:
                ctes = {c.alias for c in body.find_all(exp.CTE)}
                for table in body.find_all(exp.Table):
                    if table.name in self.versions and table.name not in ctes and not table.args.get("db"):
                        key = (table.name, self.versions[table.name])
                        self.reads[key] = self.reads.get(key, 0) + 1
            if isinstance(tree, exp.Insert) or (isinstance(tree, exp.Create) and tree.expression is not None):
                target = tree.this
                name = (target.this if isinstance(target, exp.Schema) else target).name
                self.versions[name] = self.versions.get(name, 0) + 1

    def scalar(self, query: str, params: Params = None) -> Any:
        self.execute(query, params)
        return 1  # every branch taken: a read forecast too many costs a checkpoint, never a wrong row


def forecast_reads(stage: Callable[[Any], None]) -> dict[tuple[str, int], int]:
    """(relation, version) → how many times ``stage``'s statements read it (a dry run of ``stage``)."""
    dry = _Forecast()
    stage(dry)
    return dry.reads

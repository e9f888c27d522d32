"""A sheet's queries over its CTEs materialised once (:class:`Runner`): per township with the township
bound as a parameter, or once for every township (a keyed sheet, :mod:`hub.export.keyed`)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.export.body import Body
from hub.store.db import Database
from hub.store.engine import Bound, QueryEngine, StoreEngine

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class Plan:
    """A sheet's queries over its CTEs materialised once (per township, or for all of them): ``ctas``
    are (temp table, SELECT over earlier temp tables, whether it binds the township parameters,
    whether it is read once or holds constants only: an engine that computes each relation it keeps
    (``QueryEngine.materialise``'s ``once``) may leave such a one to its reader); ``sql`` is each
    query tree's SQL over the temp tables (trees whose CTEs differ from the sheet's are absent and
    run as they are)."""

    ctas: list[tuple[str, str, bool, bool]]
    sql: dict[int, str]


def _once(ctes: list[Any], trees: list[Any]) -> dict[str, bool]:
    """CTE alias → read by at most one relation (another CTE or a query), or reading no table but
    constants (ctx, a spec's small tables): nothing to gain from computing it ahead of its readers."""
    from sqlglot import exp

    aliases = {c.alias for c in ctes}

    def reads(tree: Any) -> set[str]:
        return {t.name for t in tree.find_all(exp.Table) if not t.db}

    data: dict[str, bool] = {}
    for c in ctes:  # in order: a CTE reads earlier ones only
        names = reads(c.this)
        data[c.alias] = any(n not in aliases or data.get(n, False) for n in names)
    readers = {c.alias: 0 for c in ctes}
    bodies = [c.this for c in ctes]
    for tree in trees:
        body = tree.copy()
        body.set("with_", None)
        bodies.append(body)
    for body in bodies:
        for name in reads(body) & aliases:
            readers[name] += 1
    return {a: readers[a] < 2 or not data[a] for a in aliases}


def plan(db: QueryEngine, cs: Any, index: int, extra: list[Any] | None = None) -> Plan:
    """``extra``: more query trees over the sheet's CTEs (a keyed sheet's one untranslated-code query)."""
    from sqlglot import exp

    with_ = cs.checks.args.get("with_")  # the checks query holds every CTE of the sheet
    ctes = list(with_.expressions) if with_ is not None else []
    # unique per plan: exports running at once on the web server share one connection
    tag = uuid.uuid4().hex[:10]
    mapping = {c.alias: f"_hub_m{tag}_{index}_{c.alias}" for c in ctes}

    def over_temp(tree: Any) -> Any:
        tree = tree.copy()
        tree.set("with_", None)
        for table in tree.find_all(exp.Table):
            if not table.db and table.name in mapping:
                if not table.alias:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
                table.set("this", exp.to_identifier(mapping[table.name]))
        return tree

    trees = [*cs.trees(), *(extra or [])]
    own = {c.alias: db.render(c.this) for c in ctes}
    sql = {}
    for tree in trees:
        tw = tree.args.get("with_")
        if tw is not None and all(own.get(c.alias) == db.render(c.this) for c in tw.expressions):
            sql[id(tree)] = db.render(over_temp(tree))
    once = _once(ctes, [t for t in trees if id(t) in sql])
    ctas = [
        (
            mapping[c.alias],
            db.render(over_temp(c.this)),
            c.this.find(exp.Placeholder) is not None,
            once[c.alias],
        )
        for c in ctes
    ]
    return Plan(ctas, sql)


class Runner:
    """Runs a compiled report's queries for one township (``params``), or a keyed sheet's for all of
    them (no parameters). Per sheet, the CTEs its queries share
    (population, ranking, blocks, data rows, 合计) are materialised once as temporary tables (the
    township bound as a parameter), and the checks, 合计, record count and data rows read those;
    the plans are made once per export."""

    def __init__(
        self,
        db: Database,
        params: dict[str, object],
        cache: dict[Any, Any],
        engine: QueryEngine | None = None,
    ):
        self.store, self.params, self.cache = db, params, cache
        self.db: QueryEngine = engine or StoreEngine(db)
        self.plan: Plan | None = None

    def prepare(self, cs: Any, index: int, extra: list[Any] | None = None) -> None:
        if id(cs) not in self.cache:
            self.cache[id(cs)] = plan(self.db, cs, index, extra)
        self.plan = self.cache[id(cs)]
        for name, select, bound, once in self.plan.ctas:
            self.db.materialise(name, select, self.params if bound else None, once=once)

    def drop(self) -> None:
        for plan in [self.plan] if self.plan is not None else []:
            for name, *_ in plan.ctas:
                self.db.drop(name)
        self.plan = None

    def _query(self, tree: Any) -> tuple[str, dict[str, object] | None]:
        if self.plan is not None and id(tree) in self.plan.sql:
            return self.plan.sql[id(tree)], None
        key = ("sql", id(tree))
        if key not in self.cache:
            self.cache[key] = self.db.render(tree)
        return self.cache[key], self.params

    def rows(self, tree: Any) -> list[tuple[Any, ...]]:
        return self.db.rows(*self._query(tree))

    def dicts(self, tree: Any) -> list[dict[str, Any]]:
        return self.db.dicts(*self._query(tree))

    def in_store(self, tree: Any) -> contextlib.AbstractContextManager[tuple[str, Bound]]:
        """The rows of ``tree`` readable in the store inside the ``with`` (SQL, parameters)."""
        return self.db.in_store(self.store, *self._query(tree))

    def spill(self, tree: Any, key: str) -> tuple[Path, pa.Schema]:
        """The rows of ``tree`` as Parquet, a folder per value of ``key`` (``QueryEngine.spill``)."""
        return self.db.spill(*self._query(tree), key)

    def body(self, tree: Any) -> Body:
        with self.in_store(tree) as (sql, params):
            return Body(self.store, sql, params)

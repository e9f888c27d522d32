"""The engine seam: where the set-based report queries run.

A stage builds sqlglot trees and hands them to a :class:`QueryEngine`; the engine renders them in
its own dialect and runs them. Differences between engines are data here (:class:`EngineCapabilities`:
the sqlglot dialect, whether identifiers are quoted, whether the hub's macros exist in the engine or
are inlined), never ``if engine == ...`` in a stage.

* ``duckdb`` (:class:`StoreEngine`, the default): the queries run in the embedded store itself.
* ``spark`` (:class:`hub.store.spark.SparkEngine`): the store's merged tables are published as
  Parquet under ``HUB_HOME/warehouse`` (partitioned by township) and the queries run on Spark
  (``spark.master`` from ``HUB_SPARK_MASTER``, default ``local[2]``). pyspark is imported only there.

The merge (``merge``) and the linkage's scoring (``predict_pairs``: Splink on DuckDB, or Splink's
Spark backend) are asked of the engine too.

Choose with ``HUB_ENGINE`` or ``--engine``.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hub.errors import HubError
from hub.store.db import DDL_DIR

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from hub.dedupe.merge import MergeSummary
    from hub.store.db import Database

Params = Sequence[Any] | dict[str, Any] | None
Bound = dict[str, Any] | None  # named parameters of a query handed to the store
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class EngineCapabilities:
    name: str
    sqlglot_dialect: str
    identify: bool = False  # quote every identifier (Spark refuses unquoted non-ASCII names)
    inline_macros: bool = False  # the hub's macros (30_views.sql) are not defined in the engine
    reads_store: bool = True  # the engine reads the embedded store itself (nothing to publish)
    # a query costs more than its rows (a job to plan and schedule): a report's queries run once for
    # every township (the township a key, hub.export.keyed), not once per township
    batch_townships: bool = False
    # the engine's executors write the report files, each township's from its rows spilled as Parquet
    # where they read them (``spill``; hub.export.remote): the rows never pass through the driver
    writes_files: bool = False
    # the engine's merge recomputes only what changed since the last one, so merging when nothing
    # changed costs nothing (the store); otherwise every merge is the full one (Spark)
    incremental_merge: bool = True


class Statements(Protocol):
    """What a set-based stage written as DuckDB statements needs of where it runs (the merge's
    ``merge_tables``): the store itself, or an engine that transpiles each statement
    (:class:`hub.store.spark_merge.SparkStatements`)."""

    def execute(self, query: str, params: Params = None) -> None: ...

    def scalar(self, query: str, params: Params = None) -> Any: ...


class QueryEngine(Protocol):
    capabilities: EngineCapabilities

    def attach(self, db: Database) -> None:
        """Make the store's merged tables and canonical views readable by the engine."""

    def render(self, query: str | exp.Expression) -> str: ...

    def rows(self, query: str | exp.Expression, params: Params = None) -> list[tuple[Any, ...]]: ...

    def dicts(self, query: str | exp.Expression, params: Params = None) -> list[dict[str, Any]]: ...

    def materialise(self, name: str, select: str, params: Params = None, *, once: bool = False) -> None:
        """``name`` becomes a temporary relation holding the rows of ``select``; ``once``: it is read
        once or holds constants only, so the engine may leave it to be computed by its reader."""

    def drop(self, name: str) -> None: ...

    def in_store(
        self, db: Database, sql: str, params: Bound = None
    ) -> contextlib.AbstractContextManager[tuple[str, Bound]]:
        """The rows of ``sql`` readable in the embedded store (where the writers render them):
        yields (SQL over the store, its parameters), valid inside the ``with``."""

    def spill(self, sql: str, params: Bound, key: str) -> tuple[Path, pa.Schema]:
        """The rows of ``sql`` written as Parquet where the engine's executors read them, one folder
        per value of its column ``key`` (``<folder>/<key>=<value>/``): (the folder, the rows'
        columns without ``key``). The caller removes the folders it has read."""

    def merge(self, db: Database, now: datetime | None = None, full: bool = False) -> MergeSummary:
        """Bring the store's merged tables up to date (``full``: rebuild them all)."""

    def predict_pairs(
        self, db: Database, table: str, model: dict[str, Any], out_table: str, threshold: float
    ) -> int:
        """Score the blocked pairs of the store's records ``table`` with a Splink ``model`` (trained
        on the store); the pairs with probability ≥ ``threshold`` land in the store's ``out_table``
        (:func:`hub.dedupe.linkage.engine.predict`'s columns). Returns the number of pairs."""

    def files_at_once(self) -> int:
        """How many of an ingest's files :meth:`map_files` is given at a time (1: none, the ingest
        reads one ahead itself)."""

    def map_files(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``fn`` (picklable) of every item, in order, one task each where the engine's executors
        run: a file to read (:mod:`hub.ingest.parallel`), a report file to write
        (:mod:`hub.export.remote`)."""

    def close(self) -> None: ...


class StoreEngine:
    """The embedded DuckDB store runs the queries itself (the default; unchanged for users)."""

    def __init__(self, db: Database):
        self.db = db
        self.capabilities = EngineCapabilities("duckdb", db.capabilities.sqlglot_dialect)

    def attach(self, db: Database) -> None:
        self.db = db

    def render(self, query: str | exp.Expression) -> str:
        return self.db.render(query)

    def rows(self, query: str | exp.Expression, params: Params = None) -> list[tuple[Any, ...]]:
        return self.db.rows(self.render(query), params)

    def dicts(self, query: str | exp.Expression, params: Params = None) -> list[dict[str, Any]]:
        return self.db.dicts(self.render(query), params)

    def materialise(self, name: str, select: str, params: Params = None, *, once: bool = False) -> None:
        self.db.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}", params)

    def drop(self, name: str) -> None:
        self.db.execute(f"DROP TABLE IF EXISTS {name}")

    @contextlib.contextmanager
    def in_store(self, db: Database, sql: str, params: Bound = None) -> Iterator[tuple[str, Bound]]:
        yield sql, params

    def spill(self, sql: str, params: Bound, key: str) -> tuple[Path, pa.Schema]:
        """DuckDB's ``COPY … PARTITION_BY``, into the store's spill folder (``HUB_HOME/tmp``, made by
        :func:`hub.store.db.store_config`; the system's for a store in memory)."""
        import tempfile

        base = (
            self.db.scalar("SELECT current_setting('temp_directory')") if self.db.path is not None else None
        )
        folder = Path(tempfile.mkdtemp(prefix="spill-", dir=base))
        # Parquet has no 128-bit integer (DuckDB would write a sum's HUGEINT as a DOUBLE: 240.0)
        kinds = self.db.rows(f"DESCRIBE SELECT * FROM ({sql}) AS q", params)
        wide = {str(r[0]) for r in kinds if str(r[1]) in ("HUGEINT", "UHUGEINT")}
        cast = ", ".join(f'CAST("{c}" AS DECIMAL(38, 0)) AS "{c}"' for c in wide)
        rows = f"SELECT * REPLACE ({cast}) FROM ({sql}) AS q" if wide else sql
        self.db.execute(
            f"COPY ({rows}) TO '{folder}' (FORMAT parquet, PARTITION_BY ({key}), OVERWRITE_OR_IGNORE)", params
        )
        columns = self.db.arrow(f"SELECT * EXCLUDE ({key}) FROM ({rows}) AS q LIMIT 0", params)
        return folder, columns.schema

    def merge(self, db: Database, now: datetime | None = None, full: bool = False) -> MergeSummary:
        """Only what changed since the last merge (:mod:`hub.dedupe.incremental`), or all."""
        from hub.dedupe import merge
        from hub.dedupe.incremental import merge_incremental

        return merge(db, now) if full else merge_incremental(db, now)

    def predict_pairs(
        self, db: Database, table: str, model: dict[str, Any], out_table: str, threshold: float
    ) -> int:
        """Splink on the store's own DuckDB connection."""
        from hub.dedupe.linkage.engine import predict

        return predict(db, [table], model, out_table, threshold)

    def files_at_once(self) -> int:
        """One machine: the ingest reads the next file in a thread while it stores this one."""
        return 1

    def map_files(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return [fn(item) for item in items]

    def close(self) -> None:
        """The store belongs to the Hub; nothing of the engine's own to close."""


def engine_name(name: str | None = None) -> str:
    chosen = (name or os.environ.get("HUB_ENGINE") or "duckdb").strip().lower()
    if chosen not in ENGINES:
        raise HubError(
            f"未知的计算引擎“{chosen}”", hint=f"可选：{'、'.join(ENGINES)}（HUB_ENGINE 或 --engine）"
        )
    return chosen


def open_engine(db: Database, home: Path, name: str | None = None) -> QueryEngine:
    """The engine configured for this workspace (``HUB_ENGINE``, ``--engine``)."""
    if engine_name(name) == "spark":
        from hub.store.spark import SparkEngine

        return SparkEngine(home / "warehouse")
    return StoreEngine(db)


def arrow_in_store(db: Database, table: Any) -> contextlib.AbstractContextManager[tuple[str, Bound]]:
    """An Arrow table fetched from another engine, readable in the store for the ``with``."""

    @contextlib.contextmanager
    def scope() -> Iterator[tuple[str, Bound]]:
        name = f"_hub_in_{uuid.uuid4().hex[:12]}"
        # DuckDB refuses to register while an earlier statement's rows are unread (a SELECT run
        # through ``execute``); a statement read to the end leaves nothing pending
        db.rows("SELECT 1")
        db.register(name, table)
        try:
            yield f"SELECT * FROM {name}", None
        finally:
            db.unregister(name)

    return scope()


# -- dialect data: the hub's macros for engines that have none ------------------------------------
_MACRO = re.compile(r"CREATE OR REPLACE MACRO (\w+)\(([^)]*)\) AS\s+(.*?);", re.DOTALL)


@lru_cache(maxsize=1)
def store_macros() -> dict[str, tuple[list[str], Any]]:
    """The macros of ``ddl/*.sql`` (``age_on``, ``mask_id``…) as (parameters, body tree): one
    definition for every engine."""
    from sqlglot import parse_one

    out: dict[str, tuple[list[str], Any]] = {}
    for ddl in sorted(DDL_DIR.glob("*.sql")):
        for name, args, body in _MACRO.findall(ddl.read_text(encoding="utf-8")):
            out[name.lower()] = (
                [a.strip() for a in args.split(",") if a.strip()],
                parse_one(body, read="duckdb"),
            )
    return out


def inline_macros(tree: exp.Expression) -> exp.Expression:
    """``tree`` with every call of a hub macro replaced by its body (arguments substituted)."""
    from sqlglot import exp

    macros = store_macros()

    def expand(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() in macros:
            params, body = macros[node.name.lower()]
            args = dict(zip(params, node.expressions, strict=False))

            def substitute(n: exp.Expression) -> exp.Expression:
                if isinstance(n, exp.Column) and not n.table and n.name in args:
                    return exp.Paren(this=inline_macros(args[n.name].copy()))
                return n

            return exp.Paren(this=body.copy().transform(substitute))
        return node

    return tree.transform(expand)

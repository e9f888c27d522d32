"""The Spark engine: the store's merged tables as Parquet in a warehouse, the report queries on Spark.

``attach(db)`` publishes the tables the canonical views read (``PUBLISHED``) from the embedded store
to ``HUB_HOME/warehouse/<table>/`` as Parquet, partitioned by township (``township_code=<code>``), each
written beside the last good copy and swapped in only when complete (a failed publish leaves the
last good tables). Spark reads them and defines the canonical views (``30_views.sql``,
``35_flagged.sql``, transpiled from DuckDB by sqlglot) as temporary views; the report trees are
rendered in the ``spark`` dialect with every identifier quoted and the hub's macros inlined.
``merge(db)`` runs the merge on Spark over the same warehouse (:mod:`hub.store.spark_merge`);
``predict_pairs`` scores the linkage's pairs with Splink's Spark backend (:mod:`hub.store.spark_link`).

The executors also read the clerks' files (``map_files``, :mod:`hub.ingest.parallel`) and write
the report files from the rows ``spill`` left as Parquet per township (:mod:`hub.export.remote`).

Configuration: ``HUB_SPARK_MASTER`` (``local[2]`` by default; ``spark://host:7077`` for a
standalone cluster), ``HUB_SPARK_DRIVER_MEMORY`` (default: a quarter of the machine in local
mode, ``2g`` for a cluster's driver: :func:`driver_memory`), ``HUB_SPARK_CONF`` (extra
``key=value`` pairs separated by ``;``), ``HUB_SPARK_READ_WINDOW`` (files read at a time),
``PYSPARK_PYTHON`` (the executors' Python, default this one). Nothing is downloaded: pyspark ships
its jars.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import HubError, StoreError
from hub.store.db import DDL_DIR
from hub.store.engine import Bound, EngineCapabilities, Params, arrow_in_store, inline_macros
from hub.timings import span

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from hub.dedupe.merge import MergeSummary
    from hub.store.db import Database

CAPABILITIES = EngineCapabilities(
    "spark",
    "spark",
    identify=True,
    inline_macros=True,
    reads_store=False,
    batch_townships=True,
    writes_files=True,
    incremental_merge=False,
)

# store table → its partition column (None: small, one file); what the canonical views read
PUBLISHED: dict[str, str | None] = {
    "hub_divisions": None,
    "hub_person": "township_code",
    "hub_disability": None,
    "hub_household": "township_code",
    "hub_membership": None,
    "hub_business": "township_code",
    "hub_codes": None,
    "hub_findings": None,
    "hub_rows": "township_code",
}
SPILL = "_spill"  # report rows on their way to the executors that write the files (hub.export.remote)
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # the folder name Spark reads as a NULL partition value
# views computed once per attach (every list sheet of every township reads them)
CHECKPOINTED = ("flagged_value",)
VIEW_FILES = ("30_views.sql", "35_flagged.sql")
_VIEW = re.compile(r"(CREATE OR REPLACE VIEW .*?;)", re.DOTALL)


def machine_mebibytes() -> int:
    """This machine's memory in MiB (its cgroup's limit when that is lower)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()
        if limit.isdigit():
            total = min(total, int(limit) // 2**20)
    return int(total)


def mebibytes(size: str) -> int | None:
    """A JVM memory size (``512m``, ``4g``, ``4096``: MiB) in MiB; None when it is not one."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)b?\s*", size.lower())
    if not match:
        return None
    scale = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024 * 1024}[match.group(2)]
    return int(int(match.group(1)) * scale)


def driver_memory(master: str) -> str:
    """``HUB_SPARK_DRIVER_MEMORY``, or by default: in local mode, where the driver's JVM is the
    whole of Spark (every task runs in it), a quarter of the machine (2–16 GiB); for a cluster's
    driver, which plans the queries and collects only scores and report rows, 2 GiB."""
    given = os.environ.get("HUB_SPARK_DRIVER_MEMORY", "").strip()
    if given:
        return given
    if not master.startswith("local"):
        return "2g"
    return f"{min(max(machine_mebibytes() // 4, 2048), 16384)}m"


def broadcast_mebibytes(conf: dict[str, str]) -> int:
    """The memory a broadcast table lands in, in MiB: the driver builds it and every executor
    holds it, so the smaller of the two (in local mode the driver's JVM is the executor)."""
    driver = mebibytes(conf["spark.driver.memory"]) or 1024
    if conf["spark.master"].startswith("local"):
        return driver
    return min(driver, mebibytes(conf.get("spark.executor.memory", "1g")) or 1024)


def _conf() -> dict[str, str]:
    conf = {
        "spark.master": os.environ.get("HUB_SPARK_MASTER", "local[2]"),
        "spark.app.name": "yibiaotong-hub",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        # township codes are text: '331099101' must not become an integer partition value
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.sql.shuffle.partitions": os.environ.get("HUB_SPARK_SHUFFLE_PARTITIONS", "8"),
        "spark.sql.ansi.enabled": "false",
    }
    for pair in os.environ.get("HUB_SPARK_CONF", "").split(";"):
        if "=" in pair:
            key, value = pair.split("=", 1)
            conf[key.strip()] = value.strip()
    # sized for the master in force (HUB_SPARK_CONF may name another), unless a setting gives it
    conf.setdefault("spark.driver.memory", driver_memory(conf["spark.master"]))
    return conf


class SparkEngine:
    """Runs the report queries on Spark over the Parquet warehouse."""

    capabilities = CAPABILITIES

    def __init__(self, warehouse: Path):
        self.warehouse = Path(warehouse)
        self._cached: dict[str, Any] = {}
        self._columns: dict[str, list[str]] = {}  # published table → the store's column order
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise HubError(
                "未安装 Spark 引擎（pyspark）。",
                hint="pip install '.[spark]'（需要 Java 17）；或不设 HUB_ENGINE，使用内置引擎。",
            ) from exc
        # the executors' Python (they read the clerks' files with the hub's readers): this one,
        # unless PYSPARK_PYTHON names the interpreter the cluster's machines have the hub in
        # (pyspark takes it from the environment only)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf = _conf()
        #: what a broadcast may land in (MiB), and whether the deployment set the bound itself
        self.broadcast_mb = broadcast_mebibytes(conf)
        self.broadcast_set = "spark.sql.autoBroadcastJoinThreshold" in conf
        builder = SparkSession.builder
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            with span("spark.session"):
                self.spark = builder.getOrCreate()
        except Exception as exc:  # no Java, the master unreachable…
            raise StoreError(f"无法启动 Spark：{str(exc).splitlines()[0][:200]}") from exc
        self.spark.sparkContext.setLogLevel("ERROR")

    # -- the warehouse ---------------------------------------------------------------------------
    def attach(self, db: Database) -> None:
        """Publish the store's tables to the warehouse and define the canonical views on Spark."""
        for table, part in PUBLISHED.items():
            self.publish(db, table, part)
        with span("spark.views"):
            for table in PUBLISHED:
                self.read(table).createOrReplaceTempView(table)
            for statement in self.view_statements():
                self.spark.sql(statement)
            for view in CHECKPOINTED:
                self.materialise(view, f"SELECT * FROM `{view}`")

    def publish(self, db: Database, table: str, part: str | None) -> None:
        """The store's ``table`` as Parquet at ``warehouse/<table>/``, partitioned by ``part``
        (``township_code=<code>/`` folders, which Spark prunes: a township's query reads its folder
        only; a NULL township is Hive's default partition). Written beside the last good copy and
        swapped in when complete."""
        with span("spark.publish"):
            self._publish(db, table, part)

    def _publish(self, db: Database, table: str, part: str | None) -> None:
        self.warehouse.mkdir(parents=True, exist_ok=True)
        self._columns[table] = [c for c, _ in db.columns(table)]
        staging = self.warehouse / f".{table}.{uuid.uuid4().hex[:8]}"
        target = str(staging).replace("'", "''")
        if part:
            db.execute(
                f"COPY (SELECT * REPLACE (coalesce({part}, '{NULL_PARTITION}') AS {part}) FROM {table}) "
                f"TO '{target}' (FORMAT parquet, PARTITION_BY ({part}), WRITE_PARTITION_COLUMNS false)"
            )
        else:
            staging.mkdir()
            db.execute(f"COPY {table} TO '{target}/part-0.parquet' (FORMAT parquet)")
        if not any(staging.rglob("*.parquet")):  # an empty table: one file that keeps its schema
            db.execute(f"COPY (SELECT * FROM {table} LIMIT 0) TO '{target}/part-0.parquet' (FORMAT parquet)")
        self.swap(staging, table)

    def swap(self, staging: Path, table: str) -> None:
        """``staging`` becomes the warehouse's ``table`` (the old copy removed once replaced)."""
        final = self.warehouse / table
        old = self.warehouse / f".{table}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)

    def read(self, table: str) -> Any:
        """The warehouse's ``table`` in Spark, its columns in the store's order (a partition column
        is read from the folder names, last)."""
        df = self.spark.read.parquet(str(self.warehouse / table))
        cols = self._columns.get(table)
        return df.select(*[f"`{c}`" for c in cols]) if cols else df

    def merge(self, db: Database, now: datetime | None = None, full: bool = False) -> MergeSummary:
        """The full merge on Spark (:mod:`hub.store.spark_merge`): every merge is the full one."""
        from hub.store.spark_merge import merge

        return merge(self, db, now)

    def predict_pairs(
        self, db: Database, table: str, model: dict[str, Any], out_table: str, threshold: float
    ) -> int:
        """The linkage's scoring by Splink's Spark backend (:mod:`hub.store.spark_link`)."""
        from hub.store.spark_link import predict

        return predict(self, db, table, model, out_table, threshold)

    @staticmethod
    def view_statements() -> list[str]:
        """The canonical views of the store's DDL as Spark temporary views (one definition)."""
        import sqlglot
        from sqlglot import exp

        out = []
        for file in VIEW_FILES:
            for text in _VIEW.findall((DDL_DIR / file).read_text(encoding="utf-8")):
                tree = sqlglot.parse_one(text, read="duckdb")
                assert isinstance(tree, exp.Create)
                tree.set("properties", exp.Properties(expressions=[exp.TemporaryProperty()]))
                out.append(tree.sql(dialect="spark", identify=True))
        return out

    # -- running queries -------------------------------------------------------------------------
    def render(self, query: str | exp.Expression) -> str:
        if isinstance(query, str):
            return query
        return inline_macros(query.copy()).sql(dialect="spark", identify=True)

    def _df(self, query: str | exp.Expression, params: Params) -> Any:
        sql = self.render(query)
        if isinstance(params, dict):
            used = {k: v for k, v in params.items() if f":{k}" in sql}
            return self.spark.sql(sql, args=used or None)
        return self.spark.sql(sql, args=list(params) if params else None)

    def rows(self, query: str | exp.Expression, params: Params = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._df(query, params).collect()]

    def dicts(self, query: str | exp.Expression, params: Params = None) -> list[dict[str, Any]]:
        return [r.asDict() for r in self._df(query, params).collect()]

    def arrow(self, query: str | exp.Expression, params: Params = None) -> Any:
        return self._df(query, params).toArrow()

    def materialise(self, name: str, select: str, params: Params = None, *, once: bool = False) -> None:
        # computed now and its lineage cut: the queries that read it are analysed over a scan of
        # its rows, not over the whole plan again (Spark inlines every CTE and view it is given);
        # one read once (or of constants only) stays a view, computed inside its reader's job
        df = self._df(select, params)
        if not once:
            df = df.localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._cached[name] = df

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        df = self._cached.pop(name, None)
        if df is not None:
            df.unpersist()

    def in_store(
        self, db: Database, sql: str, params: Bound = None
    ) -> contextlib.AbstractContextManager[tuple[str, Bound]]:
        return arrow_in_store(db, self.arrow(sql, params))

    def spill(self, sql: str, params: Bound, key: str) -> tuple[Path, pa.Schema]:
        """Written by the executors under ``warehouse/_spill/``, one file per value of ``key``
        (the rows shuffled by it first), timestamps as Parquet's own (what Arrow would carry)."""
        from pyspark.sql.pandas.types import to_arrow_schema

        from hub.store.spark_link import session_conf

        folder = self.warehouse / SPILL / uuid.uuid4().hex
        df = self._df(sql, params)
        with (
            span("spark.spill"),
            session_conf(self.spark, {"spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS"}),
        ):
            (
                df.repartition(key)
                .write.option("compression", "zstd")
                .option("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")  # no _SUCCESS
                .partitionBy(key)
                .parquet(str(folder))
            )
        return folder, to_arrow_schema(df.drop(key).schema)

    # -- the clerks' files ---------------------------------------------------------------------
    def files_at_once(self) -> int:
        """Two files per core of the cluster at a time (``HUB_SPARK_READ_WINDOW`` overrides): the
        executors read the next window while the store takes this one."""
        raw = os.environ.get("HUB_SPARK_READ_WINDOW", "").strip()
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
        return 2 * int(self.spark.sparkContext.defaultParallelism)

    def map_files(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``fn`` of every item on the executors, one task per item (a file to read or to write),
        the results back on the driver in order. A failed task fails the call (the caller then does
        that batch itself: :mod:`hub.ingest.parallel`, :mod:`hub.export.remote`). On a cluster the
        files must be on storage every executor mounts at the same place (docs/scaling.md)."""
        job = self.spark.sparkContext.parallelize(list(items), max(1, len(items)))
        return list(job.map(fn).collect())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.spark.stop()
        shutil.rmtree(self.warehouse / SPILL, ignore_errors=True)  # what a failed export left


@contextlib.contextmanager
def session(warehouse: Path) -> Iterator[SparkEngine]:
    engine = SparkEngine(warehouse)
    try:
        yield engine
    finally:
        engine.close()

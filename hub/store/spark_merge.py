"""The merge on Spark: the full merge's DuckDB statements (:func:`hub.dedupe.merge.merge_tables`)
run by :class:`SparkStatements`, over the store's rows published to the warehouse.

1. **Inputs.** ``hub_rows`` (partitioned by township), ``hub_submissions``, ``hub_codes`` and the
   supersession tables are published from the store to the warehouse as Parquet
   (:meth:`hub.store.spark.SparkEngine.publish`).
2. **Statements.** Each statement the merge executes is run on Spark by
   :class:`hub.store.spark_statements.SparkStatements` (parsed from DuckDB's dialect, rendered by
   :mod:`hub.store.spark_sql`).
   The stable codes are numbered per bucket of natural keys with offsets (:func:`hub.dedupe.codes.allocate`),
   so no step holds every new key.
3. **Outputs.** The six merged tables and ``hub_codes`` are written to a staging directory of the
   warehouse (merged tables partitioned by township), loaded into the store in one transaction,
   then swapped in as the warehouse's tables. A run that fails before the store's commit leaves
   the store and the warehouse as they were: the last good tables.

The incremental merge stays on the store: its row fingerprints are DuckDB's ``hash``. A Spark merge
is always the full one and clears the store's merge snapshot (:func:`hub.dedupe.merge.adopt`).
"""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hub.dedupe.merge import OUTPUT_TABLES, MergeSummary, adopt, merge_tables
from hub.store.spark_statements import SparkStatements, forecast_reads
from hub.timings import span

if TYPE_CHECKING:
    from hub.store.db import Database
    from hub.store.spark import SparkEngine

# store table → partition column: what the merge reads, and what it writes
INPUTS: dict[str, str | None] = {
    "hub_rows": "township_code",
    "hub_submissions": None,
    "hub_codes": None,
    "hub_superseded": None,
    "hub_departures_kept": None,
}
OUTPUTS: dict[str, str | None] = {
    "hub_person": "township_code",
    "hub_disability": None,
    "hub_household": "township_code",
    "hub_membership": None,
    "hub_business": "township_code",
    "hub_conflicts": None,
    "hub_codes": None,
}
assert set(OUTPUT_TABLES) < set(OUTPUTS)


def merge(engine: SparkEngine, db: Database, now: datetime | None = None) -> MergeSummary:
    """The full merge on Spark; the store and the warehouse get its tables, or keep theirs."""
    stamp = now or datetime.now()
    for table, part in INPUTS.items():
        engine.publish(db, table, part)
    reads = forecast_reads(lambda dry: merge_tables(dry, stamp))  # which tables are read again
    run = SparkStatements(engine.spark, {t: engine.read(t) for t in INPUTS}, reads)
    staging = engine.warehouse / f".merge.{uuid.uuid4().hex[:8]}"
    try:
        with span("spark.merge.statements"):
            merge_tables(run, stamp)
        with span("spark.merge.write"):
            for table, part in OUTPUTS.items():
                writer = run.frame(table).write.mode("overwrite")
                (writer.partitionBy(part) if part else writer).parquet(str(staging / table))
        with span("spark.merge.load"), db.transaction():
            for table, part in OUTPUTS.items():
                _load(db, table, staging / table, part)
            summary = adopt(db)
        for table in OUTPUTS:
            engine.swap(staging / table, table)
    finally:
        run.close()
        shutil.rmtree(staging, ignore_errors=True)
    return summary


def _load(db: Database, table: str, folder: Path, part: str | None) -> None:
    """The store's ``table`` from the Parquet Spark wrote: the merged tables replaced, hub_codes
    given its new codes (a code is never changed or deleted)."""
    cols = [c for c, _ in db.columns(table)]
    files = sorted(folder.rglob("*.parquet"))
    if table == "hub_codes":
        if files:
            db.execute(
                f"INSERT INTO hub_codes SELECT {', '.join(f'q.{c}' for c in cols)} "
                f"FROM {_scan(folder, part)} q ANTI JOIN hub_codes c USING (entity, natural_key)"
            )
        return
    db.execute(f"DELETE FROM {table}")
    if files:
        db.execute(f"INSERT INTO {table} SELECT {', '.join(cols)} FROM {_scan(folder, part)}")


def _scan(folder: Path, part: str | None) -> str:
    path = str(folder / "**" / "*.parquet").replace("'", "''")
    if not part:
        return f"read_parquet('{path}')"
    # the partition column comes from the folder names (Spark writes NULL as its default name)
    return (
        f"(SELECT * REPLACE (nullif({part}, '__HIVE_DEFAULT_PARTITION__') AS {part}) "
        f"FROM read_parquet('{path}', hive_partitioning = true, hive_types_autocast = false))"
    )

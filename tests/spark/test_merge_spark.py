"""The merge on Spark equals the merge on DuckDB: the six merged tables and the stable codes, row
for row (EXCEPT ALL both ways), on the sample data and on a sequence of the dedupe property test's
steps; a failed Spark merge leaves the last good tables; a township's query reads one partition."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from hub.dedupe import merge
from hub.store.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dedupe"))

from test_incremental import _apply  # noqa: E402  (the property test's steps, one store at a time)

pytestmark = pytest.mark.spark
NOW = datetime(2026, 3, 1, 12, 0)
COMPARED = {
    "hub_person": "*",
    "hub_disability": "*",
    "hub_household": "*",
    "hub_membership": "*",
    "hub_business": "*",
    "hub_conflicts": "* REPLACE (CAST(sources AS VARCHAR) AS sources)",
    "hub_codes": "entity, natural_key, code, redirect_to",
}


def differences(store: Path, other: Path) -> dict[str, tuple[int, int, int]]:
    """Per table: (rows, rows only in ``store``, rows only in ``other``), EXCEPT ALL both ways."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        con.execute(f"ATTACH '{other}' AS other (READ_ONLY)")
        out = {}
        for table, cols in COMPARED.items():
            mine, theirs = f"SELECT {cols} FROM {table}", f"SELECT {cols} FROM other.{table}"
            count = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            only_mine = con.execute(f"SELECT count(*) FROM ({mine} EXCEPT ALL {theirs})").fetchone()
            only_theirs = con.execute(f"SELECT count(*) FROM ({theirs} EXCEPT ALL {mine})").fetchone()
            assert count and only_mine and only_theirs
            out[table] = (count[0], only_mine[0], only_theirs[0])
        return out
    finally:
        con.close()


def copy_store(home: Path, path: Path) -> None:
    """The fixture's store (still open in this process: its rows are partly in the WAL) at ``path``."""
    shutil.copy(home / "hub.duckdb", path)
    if (home / "hub.duckdb.wal").exists():
        shutil.copy(home / "hub.duckdb.wal", path.with_name(path.name + ".wal"))


def tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with Database(path, read_only=True) as db:
        return {t: sorted(db.rows(f"SELECT {c} FROM {t}"), key=repr) for t, c in COMPARED.items()}


def test_sample_data_merged_on_spark_equals_duckdb(
    spark_engine: Any, sample_ingested: tuple[Path, Any], tmp_path: Path
) -> None:
    home, _ = sample_ingested
    on_duckdb, on_spark = tmp_path / "duckdb.duckdb", tmp_path / "spark.duckdb"
    for path in (on_duckdb, on_spark):
        copy_store(home, path)
        with Database(path) as db:  # every code allocated again, by each engine
            db.execute("DELETE FROM hub_codes")
    with Database(on_duckdb) as db:
        expected = merge(db, NOW)
    with Database(on_spark) as db:
        got = spark_engine.merge(db, NOW)
        assert db.scalar("SELECT count(*) FROM hub_merge_state") == 0  # the next store merge: a full one
        codes = db.rows("SELECT natural_key, code FROM hub_codes WHERE entity = 'person' ORDER BY code")
    assert got == expected and got.persons > 400 and got.conflicts > 0
    # numbered in natural-key order, without a gap, across the buckets of the allocation
    assert codes == [(k, f"P{n:09d}") for n, (k, _) in enumerate(sorted(codes), start=1)]
    diff = differences(on_duckdb, on_spark)
    assert all(n > 0 for n, _, _ in diff.values()), diff
    assert {t: (a, b) for t, (_, a, b) in diff.items()} == {t: (0, 0) for t in COMPARED}, diff
    # the warehouse holds the merged tables, persons partitioned by township
    person = spark_engine.warehouse / "hub_person"
    assert sorted(p.name for p in person.iterdir() if p.is_dir()) == [
        "township_code=331099001",
        "township_code=331099101",
    ]


# The property test's steps (tests/dedupe/test_incremental.py): every kind of ledger, IDs filled,
# rows rejected and restored, a withdrawal, codes redirected and split, a row changed in place.
IDS = [f"3307021990010{i:04d}1" for i in range(5)]
SEQUENCE: list[tuple[Any, ...]] = [
    ("submit", ("population", [
        {"id_number": IDS[0], "name": "张伟", "sex": "1", "household_no": "001", "phone": "13800000001"},
        {"id_number": IDS[1], "name": "李娜", "village_code": "330702001001", "household_no": "001"},
        {"id_number": IDS[2], "name": "王芳", "person_status": "2", "address": "一组3号"},
    ]), "330702001"),
    ("submit", ("dibao", [
        {"id_number": IDS[0], "name": "张伟", "household_key": "1", "relation": "01", "covered": True,
         "dibao_amount": 1260, "dibao_category": "2"},
        {"id_number": IDS[3], "name": "张小宝", "household_key": "1", "relation": "20", "covered": True},
        {"id_number": IDS[4], "name": "王芳", "household_key": "2", "head_id_number": IDS[1]},
    ]), "330702002"),
    ("submit", ("business", [{"uscc": "91330702MA20000001", "business_name": "青山小卖部",
                              "operator_name": "张伟"}]), "330702001"),
    ("submit", ("disability", [{"id_number": IDS[1], "name": "李娜", "disability_category": "4",
                                "sex": "2"}]), "330702002"),
    ("merge",),  # both stores merged on DuckDB: the codes so far exist before the Spark merge
    ("fill", 4, IDS[2]),
    ("reject", 1),
    ("redirect", IDS[3], IDS[0]),
    ("submit", ("population", [
        {"id_number": IDS[4], "name": "王芳", "household_no": "002", "phone": "13900000002"},
        {"id_number": IDS[1], "name": "李娜", "village_code": "330702002001", "household_no": "002"},
    ]), "330702002"),
    ("submit", ("business", [{"uscc": "91330702MA20000002", "business_name": "绿水饭店"},
                             {"uscc": "91330702MA20000001", "business_name": "绿水饭店", "phone": "13800000001"}]),
     "330702002"),
    ("resubmit", 2, "张小宝"),
    ("split", IDS[3]),
    ("redirect", IDS[4], IDS[2]),
    ("withdraw", 3),
    ("restore", 1),
]  # fmt: skip


def test_a_dedupe_sequence_merged_on_spark_equals_duckdb(spark_engine: Any, tmp_path: Path) -> None:
    """Two stores take the same steps; one is merged on Spark, the other on DuckDB, and they are
    equal, codes included (new codes numbered after the existing ones). A Spark merge that fails
    midway (after allocating codes on Spark) leaves the store's and the warehouse's last tables."""
    on_spark, on_duckdb = tmp_path / "spark.duckdb", tmp_path / "duckdb.duckdb"
    stores = [Database(on_spark), Database(on_duckdb)]
    try:
        for n, op in enumerate(SEQUENCE):
            for db in stores:
                if op[0] == "merge":
                    merge(db, NOW)
                else:
                    _apply(db, op, n)
        expected = merge(stores[1], NOW)
        before = {t: sorted(stores[0].rows(f"SELECT {c} FROM {t}"), key=repr) for t, c in COMPARED.items()}
        outputs = [spark_engine.warehouse / t for t in COMPARED if t != "hub_codes"]  # codes: an input too
        warehouse_before = {p.name: p.stat().st_ino for p in outputs if p.exists()}
        import hub.store.spark_statements as spark_statements

        insert = spark_statements.SparkStatements._insert

        def executor_lost(self: Any, tree: Any, params: Any, count: bool) -> Any:
            if tree.this.name == "hub_person":  # the codes are allocated on Spark by now
                raise RuntimeError("Lost executor 1")
            return insert(self, tree, params, count)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(spark_statements.SparkStatements, "_insert", executor_lost)
            with pytest.raises(RuntimeError):
                spark_engine.merge(stores[0], NOW)
        after = {t: sorted(stores[0].rows(f"SELECT {c} FROM {t}"), key=repr) for t, c in COMPARED.items()}
        assert after == before  # the store's last good tables, and no code of the failed run
        assert {p.name: p.stat().st_ino for p in outputs if p.exists()} == warehouse_before
        assert not list(spark_engine.warehouse.glob(".*"))  # no staging folder left
        codes = spark_engine.warehouse / "hub_codes" / "*.parquet"
        assert sorted(
            stores[0].rows(f"SELECT {COMPARED['hub_codes']} FROM read_parquet('{codes}')")
        ) == sorted(before["hub_codes"])  # the warehouse's codes are the store's: none of the failed run
        assert spark_engine.merge(stores[0], NOW) == expected
    finally:
        for db in stores:
            db.close()
    diff = differences(on_duckdb, on_spark)
    assert {t: (a, b) for t, (_, a, b) in diff.items()} == {t: (0, 0) for t in COMPARED}, diff
    got = tables(on_spark)
    assert len(got["hub_person"]) >= 3 and got["hub_business"] and got["hub_household"], got
    assert any(redirect for *_, redirect in got["hub_codes"])  # a redirect was followed


def test_a_township_query_reads_one_partition(
    spark_engine: Any, sample_ingested: tuple[Path, Any], tmp_path: Path
) -> None:
    """The warehouse is partitioned by ``township_code`` (not an underscore-prefixed folder name):
    Spark prunes, a township's rows are read from its folder only."""
    home, _ = sample_ingested
    copy_store(home, tmp_path / "hub.duckdb")
    with Database(tmp_path / "hub.duckdb", read_only=True) as db:
        spark_engine.publish(db, "hub_rows", "township_code")
        town, count = db.rows(
            "SELECT township_code, count(*) FROM hub_rows GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        )[0]
        towns = db.scalar("SELECT count(DISTINCT township_code) FROM hub_rows")
    assert towns >= 2
    assert len(list((spark_engine.warehouse / "hub_rows").glob("township_code=*"))) == towns
    df = spark_engine.read("hub_rows")
    query = df.where(df.township_code == town)
    assert len(query.collect()) == count
    plan = query._jdf.queryExecution().executedPlan()
    assert "PartitionFilters: [isnotnull(township_code" in plan.toString()
    leaves = plan.collectLeaves()
    scans = [
        leaves.apply(i) for i in range(leaves.size()) if leaves.apply(i).nodeName().startswith("Scan parquet")
    ]
    assert len(scans) == 1
    metrics = scans[0].metrics()
    assert metrics.apply("numPartitions").value() == 1 and metrics.apply("numFiles").value() == 1


def test_the_later_submission_wins_whatever_its_row_numbers(spark_engine: Any, tmp_path: Path) -> None:
    """A person in two township rosters: the later submission's values win on Spark as on DuckDB,
    though its row is 1,000 rows further down (the recency key shifts the submission's rank by 40
    bits: as Spark's INT ``row_number`` it wrapped to 8 bits, and a row number more than 256 rows
    lower won; seen at 100,000 persons)."""
    from tests.dedupe.dedupe_data import add_submission

    on_spark, on_duckdb = tmp_path / "spark.duckdb", tmp_path / "duckdb.duckdb"
    for path in (on_spark, on_duckdb):
        with Database(path) as db:
            earlier = {"id_number": IDS[0], "name": "郭一鸣", "phone": "13088577877", "row_no": 3}
            later = {"id_number": IDS[0], "name": "刘一鸣", "phone": "13636459890", "row_no": 1003}
            add_submission(db, 1, "population", [earlier], township="330702001", at="2026-01-10 09:00:00")
            add_submission(db, 2, "population", [later], township="330702002", at="2026-01-10 09:05:00")
            (spark_engine.merge if path == on_spark else merge)(db, NOW)
    for path in (on_spark, on_duckdb):
        with Database(path, read_only=True) as db:
            person = db.rows("SELECT name, phone, township_code FROM hub_person")
            assert person == [("刘一鸣", "13636459890", "330702002")], path.name
    diff = differences(on_duckdb, on_spark)
    assert {t: (a, b) for t, (_, a, b) in diff.items()} == {t: (0, 0) for t in COMPARED}, diff


def test_a_relation_is_computed_ahead_only_when_read_again(spark_engine: Any) -> None:
    """The merge's statements fuse: a table read once is part of its reader's plan (no job of its
    own); one read a second time is computed once then (or when created, if the dry run foresaw
    it), and every read sees the same rows."""
    from hub.store.spark_statements import SparkStatements, forecast_reads

    run = SparkStatements(spark_engine.spark, {})
    try:
        values = ", ".join(f"({i})" for i in range(10))
        run.execute(f"CREATE TEMP TABLE a AS SELECT x FROM (VALUES {values}) AS t(x)")
        run.execute("CREATE TEMP TABLE b AS SELECT x * 2 AS y FROM a")
        run.execute("CREATE TEMP VIEW c AS SELECT sum(y) AS s FROM b")
        assert run.checkpoints == 0
        assert run.scalar("SELECT s FROM c") == 90
        assert run.checkpoints == 0  # a, b and c: one plan, one job
        assert run.scalar("SELECT count(*) FROM a") == 10  # a read again: computed on its own
        assert run.checkpoints == 1
        run.execute("INSERT INTO a SELECT 100")
        assert run.scalar("SELECT max(x) + count(*) FROM a") == 111
        assert run.scalar("SELECT s FROM c") == 90  # a snapshot of a before the insert, as DuckDB's table
    finally:
        run.close()

    def stage(db: Any) -> None:  # b read twice, c once
        db.execute(f"CREATE TEMP TABLE b AS SELECT x * 2 AS y FROM (VALUES {values}) AS t(x)")
        db.execute("CREATE TEMP TABLE c AS SELECT y FROM b WHERE y > 10")
        db.execute("CREATE TEMP TABLE d AS SELECT count(*) AS n FROM c JOIN b USING (y)")

    reads = forecast_reads(stage)
    assert reads == {("b", 1): 2, ("c", 1): 1}
    run = SparkStatements(spark_engine.spark, {}, reads)
    try:
        stage(run)
        assert run.checkpoints == 1  # b, computed when created; c fused into d's plan
        assert run.scalar("SELECT n FROM d") == 4
    finally:
        run.close()


def test_a_view_is_computed_by_each_reader_and_a_plain_cte_stays_inline(spark_engine: Any) -> None:
    """A view is never computed ahead (each reader scans what it needs, as on DuckDB), however
    often it is read; a CTE read twice in one statement is computed once unless it only filters or
    projects a stored table or view. The answers are the same either way."""
    from hub.store.spark_statements import SparkStatements, forecast_reads

    values = ", ".join(f"({i})" for i in range(10))
    run = SparkStatements(spark_engine.spark, {})
    try:
        run.execute(f"CREATE TEMP VIEW v AS SELECT x FROM (VALUES {values}) AS t(x) WHERE x > 2")
        assert (run.scalar("SELECT count(*) FROM v"), run.scalar("SELECT sum(x) FROM v")) == (7, 42)
        assert run.scalar("SELECT max(x) FROM v") == 9
        assert run.checkpoints == 0
        plain = (
            "WITH r AS (SELECT x FROM v WHERE x < 8) SELECT (SELECT count(*) FROM r) + (SELECT max(x) FROM r)"
        )
        assert run.scalar(plain) == 12
        assert run.checkpoints == 0
        grouped = (
            "WITH r AS (SELECT x % 2 AS odd, count(*) AS n FROM v GROUP BY ALL) "
            "SELECT (SELECT sum(n) FROM r) + (SELECT count(*) FROM r)"
        )
        assert run.scalar(grouped) == 9
        assert run.checkpoints == 1  # the aggregate, computed once for its two readers
        run.execute("CREATE TEMP TABLE t AS SELECT x FROM v")
        assert run.scalar("SELECT count(*) FROM t") + run.scalar("SELECT min(x) FROM t") == 10
        assert run.checkpoints == 2  # a table read twice: computed when read the second time
        on_cte = (
            "WITH a AS (SELECT x % 3 AS m, count(*) AS n FROM v GROUP BY ALL), b AS (SELECT * FROM a WHERE n > 0) "
            "SELECT (SELECT sum(n) FROM b) + (SELECT count(*) FROM b)"
        )
        assert run.scalar(on_cte) == 10
        assert run.checkpoints == 3  # b filters a CTE, not a stored relation: computed once, a with it
    finally:
        run.close()

    def stage(db: Any) -> None:  # u read once, by w's definition; w read twice
        db.execute(f"CREATE TEMP TABLE u AS SELECT x * 3 AS z FROM (VALUES {values}) AS t(x) WHERE x > 2")
        db.execute("CREATE TEMP VIEW w AS SELECT z FROM u WHERE z > 10")
        db.execute("CREATE TEMP TABLE n AS SELECT count(*) AS n FROM w")
        db.execute("CREATE TEMP TABLE s AS SELECT sum(z) AS s FROM w")

    reads = forecast_reads(stage)
    assert reads == {("u", 1): 1, ("w", 1): 2}
    run = SparkStatements(spark_engine.spark, {}, reads)
    try:
        stage(run)
        assert run.checkpoints == 1  # u, a plan every reader of w would compute: computed first
        assert (run.scalar("SELECT n FROM n"), run.scalar("SELECT s FROM s")) == (6, 117)
        assert run.checkpoints == 1
    finally:
        run.close()

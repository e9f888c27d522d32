"""The engine seam (hub/store/engine.py) without Spark: the choice of engine, and the hub's macros
inlined for engines that have none, checked against the macros themselves in DuckDB."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlglot import parse_one

from hub.errors import HubError
from hub.store.db import Database
from hub.store.engine import engine_name, inline_macros, store_macros


def test_engine_from_option_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_ENGINE", raising=False)
    assert engine_name(None) == "duckdb"
    monkeypatch.setenv("HUB_ENGINE", "Spark")
    assert engine_name(None) == "spark"
    assert engine_name("duckdb") == "duckdb"
    with pytest.raises(HubError, match="未知的计算引擎“flink”"):
        engine_name("flink")


def test_unknown_engine_on_the_command_line(cli: object) -> None:
    result = cli("export", "--engine", "flink")  # type: ignore[operator]
    assert result.exit_code != 0
    assert "未知的计算引擎“flink”" in result.output
    assert "Traceback" not in result.output


def test_inlined_macros_give_what_the_macros_give() -> None:
    assert set(store_macros()) >= {"age_on", "mask_id", "mask_mobile"}
    query = """
        SELECT age_on(b, r) AS age, mask_id(i) AS mid, mask_mobile(m) AS mm
        FROM (VALUES (DATE '1940-02-29', DATE '2026-02-28', '331099194002290011', '13912345678'),
                     (DATE '1940-02-29', DATE '2026-03-01', '12345', '139'),
                     (DATE '2000-12-31', DATE '2026-12-30', NULL, NULL),
                     (NULL, DATE '2026-01-01', '3310991', '13912'),
                     (DATE '1961-11-30', DATE '2026-11-30', 'x', '')) AS t(b, r, i, m)
        ORDER BY ALL
    """
    tree = parse_one(query, read="duckdb")
    inlined = inline_macros(tree)
    text = inlined.sql(dialect="duckdb")
    assert "age_on" not in text and "mask_id" not in text and "mask_mobile" not in text
    db = Database(None)
    try:
        assert db.rows(text) == db.rows(query)
        assert len(db.rows(text)) == 5
    finally:
        db.close()


def test_the_canonical_views_transpile_to_spark_with_quoted_names() -> None:
    pytest.importorskip("sqlglot")
    from hub.store.spark import SparkEngine

    statements = SparkEngine.view_statements()
    names = [parse_one(s, read="spark").this.name for s in statements]
    assert {"person", "household", "dibao_member", "business", "flagged_value"} <= set(names)
    assert all(s.startswith("CREATE OR REPLACE TEMPORARY VIEW `") for s in statements)


def test_rows_from_another_engine_reach_the_store_after_an_unread_select() -> None:
    """The Spark engine's rows are handed to the store as Arrow; DuckDB refuses to register a
    table while a SELECT run through ``execute`` is unread (the failure `hub run --engine spark`
    hit at its last report)."""
    import pyarrow as pa

    from hub.store.engine import arrow_in_store

    db = Database(None)
    try:
        db.execute("SELECT * FROM range(10)")
        with arrow_in_store(db, pa.table({"a": [1, 2]})) as (sql, params):
            assert db.rows(sql, params) == [(1,), (2,)]
    finally:
        db.close()


def test_the_linkage_model_transpiles_to_spark_and_a_comparison_spark_cannot_run_is_named() -> None:
    """Every comparison level and blocking rule of the person spec renders for Splink's Spark backend
    (what each decides is checked on Spark in tests/spark/test_linkage_spark.py); a Damerau distance
    other than "at most one edit" is refused with the condition named, not sent to Spark."""
    from hub.dedupe.linkage.chinese import PERSON_SPEC
    from hub.errors import StoreError
    from hub.store.spark_link import spark_settings

    settings = spark_settings(PERSON_SPEC.settings())
    conditions = [lv["sql_condition"] for c in settings["comparisons"] for lv in c["comparison_levels"]]
    spark = " ".join(conditions)
    assert "SIZE(ARRAY_INTERSECT(`py_set_l`, `py_set_r`)) > 0" in conditions
    assert "LIST_INTERSECT" not in spark and "DAMERAU" not in spark and "LENGTH(ARRAY" not in spark
    assert settings["blocking_rules_to_generate_predictions"][0] == {
        "blocking_rule": "`l`.`id17` = `r`.`id17`",
        "sql_dialect": "spark",
    }
    model = copy.deepcopy(PERSON_SPEC.settings())  # the spec's own dicts stay as they are
    model["comparisons"][-1]["comparison_levels"][4]["sql_condition"] = (
        "damerau_levenshtein(id_fuzzy_l, id_fuzzy_r) <= 2"
    )
    with pytest.raises(StoreError, match=r"damerau_levenshtein\(id_fuzzy_l, id_fuzzy_r\) <= 2"):
        spark_settings(model)


def test_the_engine_is_attached_again_only_after_the_store_changed(
    hub_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pulls of the changes feed between two uploads publish nothing again (on Spark a publish copies
    every merged table to the warehouse); an upload, a merge or another process's ingest does."""
    from datetime import date

    from hub.facade import Hub
    from hub.store.engine import StoreEngine
    from tests.conftest import SAMPLE
    from tests.exchange.feed_data import REF, TOWN, ledgers

    attached: list[int] = []
    real = StoreEngine.attach
    monkeypatch.setattr(StoreEngine, "attach", lambda self, db: (attached.append(1), real(self, db))[1])
    files = ledgers(tmp_path / "in")
    ref = date.fromisoformat(REF)
    hub = Hub()
    try:
        hub.load_divisions(SAMPLE / "divisions.csv")
        hub.ingest([files["first"]], township=TOWN, today=ref, link=False, annotate=False)
        hub.merge()
        first = hub.changes("WJ-ELDERLY65", TOWN, None, ref)
        assert first.added > 0 and len(attached) == 1
        hub.changes("GA-SYRK", None, None, ref)  # another report, nothing written since: no attach
        hub.report_file("WJ-ELDERLY65", TOWN, ref)
        assert len(attached) == 1
        hub.ingest([files["phone"]], township=TOWN, today=ref, link=False, annotate=False)
        hub.merge()
        feed = hub.changes("WJ-ELDERLY65", TOWN, first.cursor, ref)
        assert feed.changed == 1 and len(attached) == 2
    finally:
        hub.close()


def test_spark_memory_follows_the_machine_in_local_mode_and_bounds_the_records_broadcast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Local mode: the driver's JVM is the whole of Spark, so it gets a quarter of the machine;
    a cluster's driver 2 GB. The linkage records are broadcast to Splink's joins only when they
    take at most an eighth of the memory a broadcast lands in (the driver's, or the smaller
    executors' of a cluster); a setting the deployment gives wins."""
    from hub.store import spark
    from hub.store.spark_link import records_broadcast

    for name in ("HUB_SPARK_MASTER", "HUB_SPARK_DRIVER_MEMORY", "HUB_SPARK_CONF"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(spark, "machine_mebibytes", lambda: 24 * 1024)
    conf = spark._conf()
    assert (conf["spark.driver.memory"], spark.broadcast_mebibytes(conf)) == ("6144m", 6144)
    assert "spark.sql.autoBroadcastJoinThreshold" not in conf  # Spark's own, but for the scoring
    monkeypatch.setattr(spark, "machine_mebibytes", lambda: 4 * 1024)
    assert spark._conf()["spark.driver.memory"] == "2048m"  # never below 2 GB
    monkeypatch.setenv("HUB_SPARK_MASTER", "spark://127.0.0.1:7077")
    conf = spark._conf()
    assert (conf["spark.driver.memory"], spark.broadcast_mebibytes(conf)) == ("2g", 1024)
    monkeypatch.setenv("HUB_SPARK_CONF", "spark.executor.memory=8g")
    assert spark.broadcast_mebibytes(spark._conf()) == 2048
    monkeypatch.setenv("HUB_SPARK_DRIVER_MEMORY", "10g")
    assert spark.broadcast_mebibytes(spark._conf()) == 8192
    assert [spark.mebibytes(s) for s in ("512m", "4g", "4096", "2G", "lots")] == [512, 4096, 4096, 2048, None]
    # 1M persons' records: broadcast with the 6 GB and 4 GB drivers measured, not with 2 GB (which
    # failed: "Not enough memory to build and broadcast"), nor 5M with 10 GB (which failed in GC)
    assert records_broadcast(1_090_000, 6144) == {
        "spark.sql.autoBroadcastJoinThreshold": str(1_090_000 * 512)
    }
    assert records_broadcast(1_000_000, 4096) != {}
    assert records_broadcast(1_000_000, 2048) == {}
    assert records_broadcast(4_900_000, 10240) == {}
    assert records_broadcast(531, 1024) == {"spark.sql.autoBroadcastJoinThreshold": str(10 * 2**20)}

"""Every ingest is one unit or resumable (issue 11): killed after its rows are committed, or stopped by
a full disk, the same command again leaves the store exactly as one uninterrupted ingest does; a
full disk is one Chinese message and exit 70, and `hub status` still works. The kill at every step
is in test_resume_kill.py (slow)."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, Cli
from tests.resume_helpers import assert_same_store, hub, kill_at, store_snapshot

FILE = SAMPLE / "青山镇_残疾人台账_2026.xlsx"  # 17 rows with ID errors, fills, an annotated copy


def _in_process(home: Path, *args: str) -> tuple[int, str, str]:
    """`hub ARGS` in this process (Typer's runner) with HUB_HOME=home: exit code, stdout, stderr."""
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, list(args), env={"HUB_HOME": str(home)}, catch_exceptions=False)
    gc.collect()  # the store's connection goes with its Hub: a subprocess may open the file next
    return result.exit_code, result.stdout, result.stderr


# its module fixture is built once: every test of the file on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("resume")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The store one uninterrupted `hub ingest FILE` leaves."""
    home = tmp_path_factory.mktemp("reference") / "hub-data"
    assert _in_process(home, "divisions", "load", str(SAMPLE / "divisions.csv"))[0] == 0
    code, out, err = _in_process(home, "ingest", str(FILE), "--json")
    assert code == 1, err  # the file holds rejected rows
    assert json.loads(out)[0]["status"] == "ingested"
    return store_snapshot(home)


def test_killed_after_the_rows_are_committed_the_same_command_finishes_the_ingest(
    tmp_path: Path, reference: dict[str, object]
) -> None:
    home = tmp_path / "hub-data"
    assert hub(home, "divisions", "load", str(SAMPLE / "divisions.csv")).returncode == 0
    kill_at(home, "stored", "ingest", str(FILE), "--json")  # the reviewer's kill: rows in, no linkage
    code, out, err = _in_process(home, "status", "--json")
    assert code == 0 and [u["state"] for u in json.loads(out)["unfinished"]] == ["stored"]
    code, out, err = _in_process(home, "ingest", str(FILE), "--json")
    assert code == 1, err
    report = json.loads(out)[0]
    assert report["status"] == "ingested" and report["resumed"], report  # never "unchanged"
    assert "上次导入未完成" in report["message"]
    assert_same_store(store_snapshot(home), reference)  # type: ignore[arg-type]
    code, out, err = _in_process(home, "ingest", str(FILE), "--json")
    assert json.loads(out)[0]["status"] == "unchanged"  # only now: the submission is complete


def test_a_full_disk_is_one_message_exit_70_and_the_next_run_finishes(
    cli: Cli, hub_home: Path, reference: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0
    splink_sql = (
        "Error executing the following sql for table `__splink__df_concat_with_tf`(__splink__df_concat):\n"
        "CREATE TABLE __splink__df_concat_with_tf AS WITH __splink__df_concat AS (SELECT uid, name_s "
        'FROM hub_link_input)\nError was: IO Error: Could not write file "'
        f'{hub_home}/hub.duckdb.wal": No space left on device'
    )

    def full_disk(*args: object, **kwargs: object) -> None:
        from hub.store.db import Database

        db = Database(None)
        db.execute("CREATE TABLE __splink__df_left_behind AS SELECT 1 AS x")  # what a failed step leaves
        db.close()
        raise RuntimeError(splink_sql)

    with monkeypatch.context() as patched:
        patched.setattr("hub.dedupe.linkage.run_linkage", full_disk)
        failed = cli("ingest", FILE)
    assert failed.exit_code == 70, failed.output
    message = failed.output
    assert "磁盘空间不足" in message and "hub.duckdb.wal" in message and "重新运行同一命令" in message
    assert "SELECT" not in message and "CREATE" not in message and "Traceback" not in message
    assert not list((hub_home / "annotated").glob("*")) if (hub_home / "annotated").exists() else True

    status = cli("status")
    assert status.exit_code == 0, status.output
    assert "未完成的导入" in status.output

    from hub.store.db import Database

    db = Database(hub_home / "hub.duckdb")  # a table a killed Splink step left in the file
    db.execute("CREATE TABLE __splink__df_predict_left AS SELECT 1 AS x")
    db.close()
    (hub_home / "annotated").mkdir(parents=True, exist_ok=True)  # a copy a killed run left half written
    (hub_home / "annotated" / f"{FILE.stem}_0000_批注.partial.xlsx").write_bytes(b"")
    reports, code = cli.json("ingest", FILE)
    assert code == 1 and reports[0]["status"] == "ingested" and reports[0]["resumed"], reports[0]["message"]
    assert_same_store(store_snapshot(hub_home), reference)  # type: ignore[arg-type]
    assert ".partial" not in reports[0]["annotated"]  # copies are renamed into place when whole


def test_the_store_memory_limit_reached_is_one_message_exit_70_and_the_next_run_finishes(
    cli: Cli, hub_home: Path, reference: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that needs more than HUB_STORE_MEMORY_MB and cannot spill (at 5M persons: the first
    linkage's codes) says so and how to go on, not 内部错误; the same command then finishes."""
    monkeypatch.setenv("HUB_STORE_MEMORY_MB", "256")  # every connection of the process: one setting
    assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0

    def out_of_memory(*args: object, **kwargs: object) -> None:
        import duckdb

        con = duckdb.connect()
        con.execute("SET memory_limit = '8MB'")
        con.execute("SELECT list(range) FROM range(20000000)").fetchall()  # DuckDB's own error

    with monkeypatch.context() as patched:
        patched.setattr("hub.dedupe.linkage.run_linkage", out_of_memory)
        failed = cli("ingest", FILE)
    assert failed.exit_code == 70, failed.output
    message = failed.output
    assert "数据库内存不足" in message and "HUB_STORE_MEMORY_MB=256 MB" in message, message
    assert "例如 1024" in message and "重新运行同一命令" in message
    assert "内部错误" not in message and "Traceback" not in message and "SELECT" not in message
    reports, code = cli.json("ingest", FILE)
    assert code == 1 and reports[0]["status"] == "ingested" and reports[0]["resumed"], reports[0]["message"]
    assert_same_store(store_snapshot(hub_home), reference)  # type: ignore[arg-type]


def test_a_store_whose_disk_is_full_still_opens_for_status(cli: Cli, hub_home: Path) -> None:
    """Opening the store writes its DDL; with no room for that, `hub status` reads it as it is."""
    assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0
    import hub.store.db as store

    real = store.Database.apply_ddl

    def no_room(self: store.Database) -> None:
        raise OSError(28, "No space left on device", str(hub_home / "hub.duckdb.wal"))

    store.Database.apply_ddl = no_room  # type: ignore[method-assign]
    try:
        result = cli("status", "--json")
    finally:
        store.Database.apply_ddl = real  # type: ignore[method-assign]
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["townships"] == 2


def test_the_pause_hook_is_inert_without_its_variables(tmp_path: Path) -> None:
    from hub.testhook import pause_point

    pause_point("stored")  # HUB_TEST_PAUSE_AT unset: returns at once
    assert not any(tmp_path.iterdir())

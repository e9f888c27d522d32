"""`hub prune` (issue 11): uploads, annotated copies and exports older than the retention period go;
the source file of an unfinished ingest and the store stay; `--dry-run` deletes nothing."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import Cli

OLD = time.time() - 40 * 86400


def _file(home: Path, rel: str, size: int, old: bool) -> Path:
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    if old:
        os.utime(path, (OLD, OLD))
    return path


@pytest.fixture
def home(cli: Cli, hub_home: Path) -> Path:
    """A store with one unfinished ingest whose source file is old, and old and new files."""
    from hub.facade import Hub

    hub = Hub(hub_home)
    unfinished = _file(hub_home, "uploads/331099101/u1/人口.xlsx", 3000, old=True)
    hub.db.execute(
        "INSERT INTO hub_submission_state VALUES (7, 'stored', ?, true, true, now())", [str(unfinished)]
    )
    hub.close()
    _file(hub_home, "uploads/331099101/u2/低保.xlsx", 2048, old=True)
    _file(hub_home, "uploads/331099001/u3/残疾.csv", 1024, old=False)
    _file(hub_home, "annotated/低保_批注.xlsx", 4096, old=True)
    _file(hub_home, "exports/MZ-DIBAO_青山镇.xlsx", 1536, old=True)
    _file(hub_home, "hub_notes.txt", 10, old=True)  # outside the pruned folders: never touched
    return hub_home


GONE = ["uploads/331099101/u2/低保.xlsx", "annotated/低保_批注.xlsx", "exports/MZ-DIBAO_青山镇.xlsx"]
KEPT = ["uploads/331099101/u1/人口.xlsx", "uploads/331099001/u3/残疾.csv", "hub_notes.txt", "hub.duckdb"]


def test_dry_run_lists_and_deletes_nothing(cli: Cli, home: Path) -> None:
    out, code = cli.json("prune", "--days", "30", "--dry-run")
    assert code == 0
    assert sorted(out["paths"]) == sorted(GONE)
    assert out["files"] == 3 and out["bytes"] == 2048 + 4096 + 1536 and out["kept_incomplete"] == 1
    assert out["by_dir"] == {
        "uploads": {"files": 1, "bytes": 2048},
        "annotated": {"files": 1, "bytes": 4096},
        "exports": {"files": 1, "bytes": 1536},
    }
    assert out["dry_run"] is True and datetime.fromisoformat(out["cutoff"]) < datetime.now()
    for rel in GONE + KEPT:
        assert (home / rel).exists(), rel
    text = cli("prune", "--days", "30", "--dry-run")
    assert text.exit_code == 0
    assert "试运行，未删除任何文件" in text.stdout and "将删除 3 个文件" in text.stdout
    assert "annotated/低保_批注.xlsx" in text.stdout


def test_prune_by_the_retention_setting(cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_RETENTION_DAYS", "30")
    result = cli("prune")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("保留期限 30 天：")
    assert "  上传的台账（uploads/）：已删除 1 个，2.0 KB" in lines
    assert "  批注副本（annotated/）：已删除 1 个，4.0 KB" in lines
    assert "共删除 3 个文件，7.5 KB。" in lines
    assert any("保留 1 个尚未完成导入的源文件" in line for line in lines)
    assert any("数据库" in line and "不清理" in line for line in lines)
    for rel in GONE:
        assert not (home / rel).exists(), rel
    for rel in KEPT:
        assert (home / rel).exists(), rel
    assert not (home / "uploads/331099101/u2").exists()  # emptied folders go too
    again, _ = cli.json("prune")
    assert again["files"] == 0 and again["kept_incomplete"] == 1


@pytest.mark.parametrize(("days", "message"), [(None, "未设置保留期限"), ("0", "正整数"), ("abc", "正整数")])
def test_no_or_a_bad_period_is_a_message(cli: Cli, home: Path, days: str | None, message: str) -> None:
    result = cli("prune", *(["--days", days] if days else []))
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output
    for rel in GONE:
        assert (home / rel).exists()

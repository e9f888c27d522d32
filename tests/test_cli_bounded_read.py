"""The CLI reads files as an upload job does (issue 11): in a child process with a memory ceiling, so a
40 KB shared-string bomb is refused with a Chinese message and exit code 1, never read to the end
(in-process, 1,000 rows of it took 7.2 GB and 2 min 16 s). Run as a person types it: `hub` in a
separate process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.ingest.test_bounded_read import _child_pid, _gone, shared_string_bomb
from tests.proctree import TreePeak
from tests.test_cli_beside_server import HUB, hub

LEDGER = SAMPLE / "青山镇_残疾人台账_2026.xlsx"


def _used_mb(message: str) -> int:
    found = re.search(r"已用 ([\d,]+) MB", message)
    assert found, message
    return int(found.group(1).replace(",", ""))


def test_hub_ingest_refuses_a_shared_string_bomb_at_the_memory_ceiling(tmp_path: Path) -> None:
    home = tmp_path / "hub-data"
    bomb = shared_string_bomb(tmp_path / "人口.xlsx", rows=100)
    assert bomb.stat().st_size < 20_000  # read in-process: about 900 MB and 12 s
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(HUB), "ingest", str(bomb), "--no-link", "--no-annotate"],
        env={**os.environ, "HUB_HOME": str(home), "HUB_JOB_MAX_MEMORY_MB": "250"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreePeak(proc.pid) as peak:
        stdout, stderr = proc.communicate(timeout=300)
    seconds = time.monotonic() - started
    text = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert peak.one_mb < 400, peak.one_mb  # no process of the command went far past the ceiling
    assert text.returncode == 1, text.stderr  # bad input, not "the hub could not" (70)
    assert "Traceback" not in text.stdout + text.stderr
    assert "拒收，未导入任何数据：人口.xlsx: 读取所用内存超过上限" in text.stdout
    assert "上限 250 MB" in text.stdout and "请把文件拆小（例如按村）后分别导入" in text.stdout
    assert "HUB_JOB_MAX_MEMORY_MB" in text.stdout  # the person at the command line can raise it
    assert _used_mb(text.stdout) < 400  # stopped at the ceiling, not after the read
    assert seconds < 60

    status = json.loads(hub(home, "status", "--json").stdout)
    assert status["rows"] == 0  # nothing of it stored


@pytest.mark.slow  # a whole run (merge, every report); the bound itself is tested above
def test_hub_run_refuses_the_bomb_and_reads_the_other_ledgers(tmp_path: Path) -> None:
    """`hub run` on a folder: the bomb (read in the reader thread, after the first file) is refused,
    the ledger beside it is read in a bounded child too and goes in."""
    home, folder = tmp_path / "hub-data", tmp_path / "ledgers"
    folder.mkdir()
    shutil.copy(SAMPLE / "divisions.csv", folder)
    shutil.copy(LEDGER, folder / LEDGER.name)
    shared_string_bomb(folder / "zz_人口.xlsx", rows=100)  # sorted after the ledger
    done = hub(
        home, "run", folder, "--no-link", "--out", tmp_path / "out", "--json", HUB_JOB_MAX_MEMORY_MB="250"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    by_name = {Path(f["file"]).name: f for f in summary["file_reports"]}
    assert by_name["zz_人口.xlsx"]["status"] == "refused"
    assert "读取所用内存超过上限" in by_name["zz_人口.xlsx"]["message"]
    assert by_name[LEDGER.name]["status"] == "ingested" and by_name[LEDGER.name]["accepted"] > 0
    assert summary["refused"] == 1


def test_a_reader_does_not_outlive_a_command_killed_with_kill_9(tmp_path: Path) -> None:
    """`kill -9` of `hub ingest` in the middle of a read: the reader (a child of the fork server,
    no longer watched by anyone) is gone within seconds instead of reading on unbounded."""
    flag = tmp_path / "paused"
    proc = subprocess.Popen(
        [str(HUB), "ingest", str(LEDGER), "--no-link", "--no-annotate"],
        env={
            **os.environ,
            "HUB_HOME": str(tmp_path / "hub-data"),
            "HUB_TEST_PAUSE_AT": "reader-call",  # the reader stops inside its read (hub/testhook.py)
            "HUB_TEST_PAUSE_FILE": str(flag),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        reader = _child_pid(flag, timeout=120)
        assert reader != proc.pid  # read in a child, not in the command
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 20
    while not _gone(reader) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not _gone(reader):  # do not leave it behind for the next test
        os.kill(reader, 9)
        raise AssertionError("the reader outlived the command")

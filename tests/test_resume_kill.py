"""kill -9 at every step of an ingest (and at moments in between), SIGTERM, a real full disk, and a
killed withdrawal: the same command again leaves the store exactly as one uninterrupted run does —
table by table, the annotated copies (opened with openpyxl), the linkage model (issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.resume_helpers import (
    HUB,
    assert_same_store,
    hub,
    hub_env,
    kill_after,
    kill_at,
    store_snapshot,
)

pytestmark = pytest.mark.slow

# 243 person records: the linkage model is trained and saved, rows are filled from a match, copies written
FILES = [str(SAMPLE / "青山镇_人口台账_2026.xlsx"), str(SAMPLE / "青山镇_残疾人台账_2026.xlsx")]
STEPS = ["read", "stored", "linking", "linked", "copy-written", "copy-renamed"]


def _fresh(root: Path) -> Path:
    home = root / "hub-data"
    assert hub(home, "divisions", "load", str(SAMPLE / "divisions.csv")).returncode == 0
    return home


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], float, Path]:
    """One uninterrupted `hub ingest` of both files: the store it leaves, how long it took, its home."""
    home = _fresh(tmp_path_factory.mktemp("reference"))
    clock = time.monotonic()
    done = hub(home, "ingest", *FILES, "--json")
    took = time.monotonic() - clock
    assert done.returncode == 1, done.stderr
    reports = json.loads(done.stdout)
    assert [r["status"] for r in reports] == ["ingested", "ingested"]
    assert any(w["code"] == "id-filled-by-match" for r in reports for w in r["warnings"])
    snap = store_snapshot(home)
    assert len(snap["annotated"]) == 2  # type: ignore[arg-type]
    return snap, took, home


def _finish_and_compare(home: Path, want: dict[str, object], statuses: set[str] | None = None) -> None:
    again = hub(home, "ingest", *FILES, "--json")
    assert again.returncode == 1, again.stderr[-2000:]
    assert {r["status"] for r in json.loads(again.stdout)} <= (statuses or {"ingested"})
    assert_same_store(store_snapshot(home), want)
    third = hub(home, "ingest", *FILES, "--json")
    assert [r["status"] for r in json.loads(third.stdout)] == ["unchanged", "unchanged"]


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_each_step_then_the_same_command(
    tmp_path: Path, reference: tuple[dict[str, object], float, Path], step: str
) -> None:
    home = _fresh(tmp_path)
    kill_at(home, step, "ingest", *FILES, "--json")
    status = hub(home, "status")
    assert status.returncode == 0, status.stderr
    if step in ("copy-written", "copy-renamed", "linked"):  # nothing half-written is visible
        for path in (home / "annotated").glob("*"):
            assert ".partial" in path.name or path.stat().st_size > 0
    _finish_and_compare(home, reference[0])


@pytest.mark.parametrize("fraction", [0.15, 0.3, 0.45, 0.6, 0.75, 0.9])
def test_kill_at_any_moment_then_the_same_command(
    tmp_path: Path, reference: tuple[dict[str, object], float, Path], fraction: float
) -> None:
    home = _fresh(tmp_path)
    killed = kill_after(home, reference[1] * fraction, "ingest", *FILES, "--json")
    # a file whose submission completed before the kill (or a run that ended first) is "unchanged"
    _finish_and_compare(home, reference[0], {"ingested", "unchanged"} if killed else {"unchanged"})


def test_sigterm_leaves_the_store_resumable(
    tmp_path: Path, reference: tuple[dict[str, object], float, Path]
) -> None:
    home = _fresh(tmp_path)
    flag = tmp_path / "paused"
    env = hub_env(home, HUB_TEST_PAUSE_AT="linking", HUB_TEST_PAUSE_FILE=str(flag))
    proc = subprocess.Popen(
        [str(HUB), "ingest", *FILES], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "已中断" in err and "Traceback" not in err
    _finish_and_compare(home, reference[0])


def test_a_killed_withdrawal_is_finished_by_the_same_command(
    tmp_path: Path, reference: tuple[dict[str, object], float, Path]
) -> None:
    _, _, ref_home = reference
    whole, killed = tmp_path / "a" / "hub-data", tmp_path / "b" / "hub-data"
    for home in (whole, killed):
        shutil.copytree(ref_home, home)
    args = ["withdraw", "2", "--reason", "误报", "--by", "张三"]
    done = hub(whole, *args)
    assert done.returncode == 0, done.stderr
    kill_at(killed, "withdrawn", *args)
    resumed = hub(killed, *args, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["resumed"] is True
    want, got = store_snapshot(whole), store_snapshot(killed)
    assert_same_store(got, want)
    assert hub(killed, *args).returncode == 1  # now it is done: a second withdrawal is refused


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """A 24 MB tmpfs (root only; skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)], capture_output=True
        ).returncode
    ):
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield disk  # type: ignore[misc]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_real_full_disk_then_the_same_command_after_space_is_freed(
    small_disk: Path, reference: tuple[dict[str, object], float, Path]
) -> None:
    home = _fresh(small_disk)
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    with open(filler, "wb") as out:  # leave about 300 KB
        out.write(b"\0" * max(free - 300_000, 0))
    failed = hub(home, "ingest", *FILES)
    assert failed.returncode == 70, (failed.stdout[-500:], failed.stderr[-2000:])
    assert "磁盘空间不足" in failed.stderr and "重新运行同一命令" in failed.stderr
    assert "SELECT" not in failed.stderr and "Traceback" not in failed.stderr
    status = hub(home, "status")
    assert status.returncode == 0, status.stderr  # the store opens, the disk still full
    filler.unlink()
    _finish_and_compare(home, reference[0])

"""Reading in a child process that can be stopped (hub/ingest/bounded.py, issue 11): a read stuck in
one calamine call is stopped at the time limit, a 40 KB shared-string bomb at the memory ceiling,
a caller's cancel at once, and a reader that dies is a refused file, never a crash."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from hub.errors import IngestError
from hub.ingest.bounded import bounded_reads
from hub.ingest.limits import LimitError
from hub.ingest.readers import read_sheets
from hub.paths import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data" / "青山镇_残疾人台账_2026.xlsx"


def shared_string_bomb(path: Path, rows: int = 300, cols: int = 20, chars: int = 32_000) -> Path:
    """One 32,000-character string stored once and referenced by every cell: about 40 KB on disk,
    within every limit the file can be measured by, and gigabytes once each cell is its own copy."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("人口")
    ws.write_row(0, 0, [f"列{i}" for i in range(cols)])
    big = "长" * chars
    for r in range(1, rows + 1):
        ws.write_row(r, 0, [big] * cols)
    wb.close()
    return path


def _paused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The child stops inside the reader, where calamine's sheet call is (hub/testhook.py)."""
    signal_file = tmp_path / "paused"
    monkeypatch.setenv("HUB_TEST_PAUSE_AT", "reader-call")
    monkeypatch.setenv("HUB_TEST_PAUSE_FILE", str(signal_file))
    return signal_file


def _child_pid(signal_file: Path, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if signal_file.exists() and signal_file.read_text().strip():
            return int(signal_file.read_text().split()[1])
        time.sleep(0.05)
    raise AssertionError("the reader never got to its sheet call")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") >= 0


@pytest.mark.slow  # every upload of tests/serve reads this way too
def test_a_bounded_read_gives_the_same_sheets() -> None:
    direct = read_sheets(SAMPLE)
    with bounded_reads():
        child = read_sheets(SAMPLE)
    assert [s.name for s in child] == [s.name for s in direct]
    for a, b in zip(child, direct, strict=True):
        assert a.table.equals(b.table) and a.merged == b.merged and a.hidden_rows == b.hidden_rows


def test_a_read_stuck_in_one_call_is_stopped_at_the_time_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    signal_file = _paused(monkeypatch, tmp_path)
    monkeypatch.setenv("HUB_MAX_READ_SECONDS", "2")
    started = time.monotonic()
    with pytest.raises(LimitError) as info, bounded_reads():
        read_sheets(SAMPLE)
    assert "读取时间（秒）超过上限" in str(info.value) and "请把文件拆小" in str(info.value)
    assert time.monotonic() - started < 30
    assert _gone(_child_pid(signal_file))


def test_a_shared_string_bomb_is_stopped_at_the_memory_ceiling(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bomb = shared_string_bomb(tmp_path / "人口.xlsx")
    assert bomb.stat().st_size < 100_000  # read in-process it takes about 2 GB (7 GB at 1,000 rows)
    monkeypatch.setenv("HUB_JOB_MAX_MEMORY_MB", "250")
    with pytest.raises(LimitError) as info, bounded_reads():
        read_sheets(bomb)
    message = str(info.value)
    assert message.startswith("人口.xlsx: 读取所用内存超过上限") and "上限 250 MB" in message
    assert "请把文件拆小（例如按村）后分别上传" in message
    assert info.value.details["limit"] == "HUB_JOB_MAX_MEMORY_MB"


def test_the_caller_stops_a_read_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    signal_file = _paused(monkeypatch, tmp_path)
    asked = threading.Event()

    class Cancelled(Exception):
        pass

    def check() -> None:
        if signal_file.exists():
            asked.set()
            raise Cancelled

    with pytest.raises(Cancelled), bounded_reads(check=check):
        read_sheets(SAMPLE)
    assert asked.is_set() and _gone(_child_pid(signal_file))


def test_a_reader_that_dies_is_a_refused_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    signal_file = _paused(monkeypatch, tmp_path)
    killer = threading.Thread(target=lambda: os.kill(_child_pid(signal_file), 9))
    killer.start()
    with pytest.raises(IngestError) as info, bounded_reads():
        read_sheets(SAMPLE)
    killer.join()
    assert "读取程序异常退出（信号 9）" in str(info.value) and "另存为 .xlsx" in str(info.value)


def _niceness_after(path: str, queue: object) -> None:
    from hub.ingest.bounded import _yield_if_large

    _yield_if_large(Path(path))
    queue.put(os.nice(0))  # type: ignore[attr-defined]


def test_a_large_file_is_read_at_a_lower_cpu_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """A large upload's reader yields the CPU to the daily uploads' readers (nice 10); a small one
    keeps the server's priority."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    found = {}
    for limit_mb, name in (("0.001", "large"), ("2", "small")):  # the sample is ~10 KB
        monkeypatch.setenv("HUB_SMALL_UPLOAD_MB", limit_mb)
        queue = ctx.Queue()
        proc = ctx.Process(target=_niceness_after, args=(str(SAMPLE), queue))
        proc.start()
        found[name] = queue.get(timeout=30)
        proc.join(10)
    base = os.nice(0)
    assert found == {"large": min(19, base + 10), "small": base}, found

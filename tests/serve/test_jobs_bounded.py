"""An upload job's limits hold inside a reader call (issue 11): a read stuck in calamine is stopped
by the job's time limit and by the clerk's cancel within seconds, and a 40 KB file that would take
gigabytes to read is refused at the job's memory ceiling with a message, while the job ends."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.ingest.test_bounded_read import _child_pid, _gone, shared_string_bomb
from tests.serve.conftest import SAMPLE, login, page_csrf
from tests.serve.test_jobs_queue import fresh, job_of, start, submissions, wait

__all__ = ["fresh"]  # the fixture, shared with test_jobs_queue
QS_FILE = SAMPLE / "青山镇_残疾人台账_2026.xlsx"


def _pause_reads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    from hub.ingest.bounded import bounded_reads
    from hub.ingest.readers import read_sheets

    with bounded_reads():  # the fork server is up: the job's seconds are the reader's, not its start
        read_sheets(SAMPLE / "divisions.csv")
    signal_file = tmp_path / "paused"
    monkeypatch.setenv("HUB_TEST_PAUSE_AT", "reader-call")
    monkeypatch.setenv("HUB_TEST_PAUSE_FILE", str(signal_file))
    return signal_file


@pytest.mark.slow  # tests/ingest/test_bounded_read.py has the reader's own, fast
def test_the_time_limit_stops_a_job_inside_a_reader_call(
    fresh: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    signal_file = _pause_reads(monkeypatch, tmp_path)
    app = fresh(HUB_JOB_TIME_LIMIT_S="5")
    qs = login(app, "qs_clerk")
    url = start(qs, QS_FILE)
    pid = _child_pid(signal_file)
    assert job_of(qs, url)["status_text"] == "正在读取文件"
    job = wait(qs, url, timeout=60)
    assert job["status"] == "timeout" and "处理时间超过上限（5 秒）" in job["message"]
    assert "数据库未作任何改动" in job["message"] and submissions(app) == []
    assert _gone(pid)


def test_cancel_stops_a_job_inside_a_reader_call(
    fresh: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    signal_file = _pause_reads(monkeypatch, tmp_path)
    app = fresh()
    qs = login(app, "qs_clerk")
    url = start(qs, QS_FILE)
    pid = _child_pid(signal_file)
    asked = time.monotonic()
    qs.post(f"{url}/cancel", data={"csrf_token": page_csrf(qs, url)}, follow_redirects=False)
    job = wait(qs, url, timeout=30)
    assert time.monotonic() - asked < 10
    assert job["status"] == "cancelled" and "数据库未作任何改动" in job["message"]
    assert submissions(app) == [] and _gone(pid)


def test_a_file_over_the_memory_ceiling_is_refused_and_the_job_ends(fresh: Any, tmp_path: Path) -> None:
    bomb = shared_string_bomb(tmp_path / "青山镇_人口台账.xlsx")
    app = fresh(HUB_JOB_MAX_MEMORY_MB="250")
    qs = login(app, "qs_clerk")
    url = start(qs, bomb)
    job = wait(qs, url, timeout=120)
    assert job["status"] == "done" and submissions(app) == []
    [refused] = job["reports"]
    assert refused["status"] == "refused" and "读取所用内存超过上限" in refused["message"]
    assert "上限 250 MB" in refused["message"]
    page = qs.get(url).text  # what the clerk reads on the job page
    assert "读取所用内存超过上限" in page and "请把文件拆小（例如按村）后分别上传" in page


def test_files_of_one_job_over_the_cell_limit_together_refuse_the_one_that_tips_it(
    fresh: Any, tmp_path: Path
) -> None:
    """A job's files are all read before any is stored: together they are held to ``HUB_MAX_CELLS``;
    the file that takes them over is refused with what to do, the one before it goes in."""
    dibao = SAMPLE / "青山镇_低保花名册_2026年11月.xlsx"  # 40 rows × 15 columns read
    app = fresh(HUB_MAX_CELLS="700")  # 319 cells + 600 cells: each within, together not
    qs = login(app, "qs_clerk")
    url = start(qs, QS_FILE, dibao)
    job = wait(qs, url, timeout=120)
    assert job["status"] == "done"
    first, second = job["reports"]
    assert first["name"] == QS_FILE.name and first["status"] == "ingested"
    assert second["name"] == dibao.name and second["status"] == "refused"
    assert "本次上传的文件合计单元格数超过上限：919，上限 700，此文件未导入" in second["message"]
    assert [name for _, name in submissions(app)] == [QS_FILE.name]
    page = qs.get(url).text
    assert "合计单元格数超过上限" in page and "请分批上传" in page

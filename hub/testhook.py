"""A test-only pause point: with ``HUB_TEST_PAUSE_AT=<step>`` and ``HUB_TEST_PAUSE_FILE=<path>`` both
set, the process reaching ``step`` writes the step's name to that file and sleeps (a test then kills
it with SIGKILL, see tests/test_resume*.py). Without both variables it does nothing at all.

Steps of an ingest (docs/operations.md): ``read`` (the first file read and validated, nothing written),
``stored`` (a file's rows committed), ``linking`` (entity resolution done, counts not yet re-derived),
``linked``, ``copy-written`` (annotated copies under their temporary names), ``copy-renamed`` (in
place, not yet recorded). Of a withdrawal: ``withdrawn`` (rows gone, not yet re-linked and merged)."""

from __future__ import annotations

import os
import time


def pause_point(step: str) -> None:
    if os.environ.get("HUB_TEST_PAUSE_AT") != step:
        return
    signal_file = os.environ.get("HUB_TEST_PAUSE_FILE")
    if not signal_file:
        return
    with open(signal_file, "w", encoding="utf-8") as out:
        out.write(f"{step} {os.getpid()}\n")
    while True:  # until killed
        time.sleep(60)

"""The loopback load test (20 concurrent uploads, 50 concurrent pulls) as a slow test."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hub.paths import REPO_ROOT


@pytest.mark.slow
def test_load_20_uploads_50_pulls() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "bench_web_load.py")],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "uploads" in done.stdout and "n=20" in done.stdout and "n=50" in done.stdout
    assert "nothing lost: 20 submissions stored, 50 pulls in the access log" in done.stdout
    print(done.stdout)

"""Loopback load test of `hub serve`: 20 concurrent uploads (each a distinct ledger, ingested for
real) then 50 concurrent API pulls of a report. Bounded (worker pools, per-request timeouts, a
global deadline); starts its own server on a free port and stops by itself. Prints timings.

    .venv/bin/python benchmarks/bench_web_load.py [--uploads 20] [--pulls 50]
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "sample_data"
PASSWORD = "load-test-password"
DEADLINE_S = 600


def _start(home: Path) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    from hub.serve.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(home), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def _seed(home: Path) -> str:
    from hub.facade import Hub
    from hub.serve.accounts import add_user, create_token, get_user

    hub = Hub(home)
    hub.load_divisions(SAMPLE / "divisions.csv")
    add_user(hub.db, "load_clerk", "clerk", township="331099001", password=PASSWORD)
    add_user(hub.db, "load_mz", "department", dept="民政", password=PASSWORD)
    hub.ingest([SAMPLE / "城关街道_人口台账_2026.xlsx"], township="331099001", annotate=False)
    hub.merge()
    user = get_user(hub.db, "load_mz")
    assert user is not None
    token = create_token(hub.db, user, "load test")
    hub.close()
    return token


def _login(base: str) -> Any:
    import httpx

    client = httpx.Client(base_url=base, timeout=120)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "load_clerk", "password": PASSWORD, "csrf_token": token})
    return client


def _upload(base: str, content: bytes, i: int) -> float:
    started = time.perf_counter()
    client = _login(base)
    page = client.get("/clerk").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/clerk/upload",
        data={"csrf_token": csrf},
        headers={"Accept": "application/json"},
        files=[("files", (f"城关街道_市场主体台账_{i:02d}.csv", content, "text/csv"))],
    )
    r.raise_for_status()
    url = r.json()["url"]
    while time.perf_counter() - started < DEADLINE_S:
        job = client.get(url, headers={"Accept": "application/json"}).json()
        if job["status"] in ("done", "failed"):
            if job["status"] != "done" or job["reports"][0]["status"] != "ingested":
                raise RuntimeError(f"upload {i}: {job}")
            return time.perf_counter() - started
        time.sleep(0.1)
    raise TimeoutError(f"upload {i} did not finish")


def _pull(base: str, token: str) -> float:
    import httpx

    started = time.perf_counter()
    r = httpx.get(
        f"{base}/api/v1/reports/MZ-GAOLING",
        timeout=120,
        headers={"Authorization": f"Bearer {token}"},
        params={"township": "331099001", "date": "2026-11-30", "purpose": "负载测试：高龄津贴核对"},
    )
    r.raise_for_status()
    return time.perf_counter() - started


def _report(label: str, times: list[float], wall: float) -> None:
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(
        f"{label}: n={len(times)} wall={wall:.2f}s p50={statistics.median(times):.2f}s p95={p95:.2f}s "
        f"max={times[-1]:.2f}s throughput={len(times) / wall:.1f}/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--pulls", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-load-") as tmp:
        home = Path(tmp)
        token = _seed(home)
        base, server, thread = _start(home)
        try:
            ledger = (SAMPLE / "城关街道_市场主体台账_2026.csv").read_bytes()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.uploads) as pool:  # distinct bytes: trailing blank lines
                up = list(pool.map(lambda i: _upload(base, ledger + b"\r\n" * i, i), range(args.uploads)))
            _report("uploads (login + upload + ingest + merge)", up, time.perf_counter() - started)
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.pulls) as pool:
                pulls = list(pool.map(lambda _: _pull(base, token), range(args.pulls)))
            _report("API pulls (MZ-GAOLING xlsx)", pulls, time.perf_counter() - started)
        finally:
            server.should_exit = True
            thread.join(30)
        _check_nothing_lost(home, args.uploads, args.pulls)
    return 0


def _check_nothing_lost(home: Path, uploads: int, pulls: int) -> None:
    """Every upload is a stored submission and every pull a line of the access log."""
    from hub.facade import Hub

    hub = Hub(home)
    stored = hub.db.scalar(
        "SELECT count(*) FROM hub_submissions WHERE file_name LIKE '城关街道_市场主体台账_%'"
    )
    logged = hub.db.scalar(
        "SELECT count(*) FROM hub_access_log WHERE channel = 'api' AND report = 'MZ-GAOLING'"
    )
    hub.close()
    if (stored, logged) != (uploads, pulls):
        raise RuntimeError(f"lost work: {stored}/{uploads} submissions stored, {logged}/{pulls} pulls logged")
    print(f"nothing lost: {stored} submissions stored, {logged} pulls in the access log")


if __name__ == "__main__":
    raise SystemExit(main())

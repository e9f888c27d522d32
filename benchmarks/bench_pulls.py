"""Issue 12 items 3 and 5: a department's changes pull (target ≤ 1 s) and 50 concurrent full-report
pulls through `hub serve` on loopback (p95 ≤ 2 s), on the sample data or on a generated store.

    .venv/bin/python benchmarks/bench_pulls.py                      # the sample ledgers
    .venv/bin/python benchmarks/bench_pulls.py --persons 1000000    # bench_run.py's generator, `hub run --no-link`
    .venv/bin/python benchmarks/bench_pulls.py --home /path/to/HUB_HOME   # a store of yours (copied)

What it does, timing each step (the server is `hub serve`, a process of its own; the clients are
threads of this one):

1. a store at version A; the server started; the department's first pull: the changes feed without
   a cursor (every record), which computes the snapshot (cold), and the full file (cold, then cached);
2. 50 concurrent pulls of that file (warm: served from the content-addressed cache);
3. server stopped; a 100-row ledger ingested (phones changed, 10 deaths) and merged: version B;
   server started again;
4. 50 concurrent pulls of the file at B (cold: the first computes it, the others wait for it);
5. the changes pull since A (the snapshot at B is there);
6. a county-wide report (GA-SYRK) pulled cold and warm.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import HUB, generate_ledgers, machine  # noqa: E402

SAMPLE = ROOT / "sample_data"
REF = "2026-11-30"
PURPOSE = "基准测试：报表拉取"
PASSWORD = "bench-pulls-password"


def _hub(home: Path, *args: str) -> str:
    env = {**os.environ, "HUB_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([HUB, *args], env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode not in (0, 1):
        raise SystemExit(f"hub {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def _seed(home: Path, persons: int, townships: int, work: Path) -> float:
    started = time.perf_counter()
    if persons:
        data = generate_ledgers(work / "data", persons, townships, "csv")
        _hub(home, "run", str(data), "--date", REF, "--out", str(work / "out"), "--json", "--no-link")
    else:
        _hub(home, "run", str(SAMPLE), "--date", REF, "--out", str(work / "out"), "--json", "--no-link")
    return time.perf_counter() - started


def _token(home: Path) -> dict[str, str]:
    from hub.facade import Hub
    from hub.serve.accounts import add_user, create_token, get_user

    hub = Hub(home)
    tokens = {}
    for name, dept in (("bench_wj", "卫健"), ("bench_ga", "公安")):
        if get_user(hub.db, name) is None:
            add_user(hub.db, name, "department", dept=dept, password=PASSWORD)
        user = get_user(hub.db, name)
        assert user is not None
        tokens[dept] = create_token(hub.db, user, "bench")
    hub.close()
    return tokens


def _persons(home: Path) -> str:
    import duckdb

    con = duckdb.connect(str(home / "hub.duckdb"), read_only=True)
    try:
        return f"{con.execute('SELECT count(*) FROM hub_person').fetchone()[0]:,} persons"  # type: ignore[index]
    finally:
        con.close()


def _busiest_townships(home: Path) -> tuple[str, str]:
    """The two townships with the most living persons (the upload goes to the first)."""
    from hub.facade import Hub

    hub = Hub(home)
    towns = hub.db.rows(
        "SELECT township_code FROM hub_person WHERE alive AND township_code IS NOT NULL "
        "GROUP BY ALL ORDER BY count(*) DESC LIMIT 2"
    )
    hub.close()
    return str(towns[0][0]), str(towns[-1][0])


def _small_ledger(home: Path, town: str, path: Path) -> None:
    """100 residents of the township as a clerk resubmits them: new phones, 10 of them died."""
    from hub.facade import Hub

    hub = Hub(home)
    rows = hub.db.rows(
        """SELECT p.name, p.id_number, p.sex, p.birth_date, d.name
           FROM hub_person p JOIN hub_divisions d ON d.code = p.village_code
           WHERE p.township_code = ? AND p.alive AND p.birth_date < DATE '1955-01-01'
           ORDER BY p.person_code LIMIT 100""",
        [town],
    )
    hub.close()
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["姓名", "公民身份号码", "性别", "出生日期", "村（社区）", "联系电话", "人员状态", "死亡日期"]
        )
        for i, (name, idn, sex, birth, village) in enumerate(rows):
            dead = i < 10
            w.writerow(
                [
                    name,
                    idn,
                    "男" if sex == "1" else "女",
                    birth,
                    village,
                    f"139{i:08d}",
                    "死亡" if dead else "正常",
                    "2026-10-01" if dead else "",
                ]
            )


class Server:
    def __init__(self, home: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "HUB_HOME": str(home), "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [HUB, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("hub serve did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _get(base: str, path: str, token: str, client: Any = None, **params: str) -> tuple[float, Any]:
    """One pull; ``client``: the department's own HTTP client, made before the pull (as a department's
    program has one), or a new one."""
    import httpx

    started = time.perf_counter()
    r = (client or httpx).get(
        f"{base}{path}",
        timeout=600,
        headers={"Authorization": f"Bearer {token}"},
        params={"date": REF, "purpose": PURPOSE, **params},
    )
    r.raise_for_status()
    return time.perf_counter() - started, r


def _burst(base: str, path: str, token: str, n: int, **params: str) -> tuple[list[float], float, set[str]]:
    """``n`` departments pulling at once, each with its HTTP client made beforehand (building a client
    costs the benchmark's own CPU, which shares the machine with the server)."""
    import httpx

    clients = [httpx.Client() for _ in range(n)]
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n) as pool:
            got = list(pool.map(lambda c: _get(base, path, token, c, **params), clients))
        wall = time.perf_counter() - started
    finally:
        for c in clients:
            c.close()
    return [t for t, _ in got], wall, {r.headers.get("X-Hub-SHA256", "") for _, r in got}


def _line(label: str, times: list[float], wall: float | None = None) -> str:
    times = sorted(times)
    if len(times) == 1:
        return f"| {label} | {times[0]:.2f} s | |"
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return (
        f"| {label} | p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s, max {times[-1]:.2f} s "
        f"| wall {wall:.2f} s, {len(times) / (wall or 1):.0f}/s |"
    )


class _Lines:
    """Table rows printed as they are measured (a long run keeps what it measured)."""

    def __init__(self) -> None:
        print(f"Machine: {machine()}, load average {os.getloadavg()[0]:.1f} at start\n")
        print("| what | time | notes |\n|---|---|---|", flush=True)

    def append(self, line: str) -> None:
        print(line, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=0, help="0: the sample ledgers")
    ap.add_argument("--townships", type=int, default=8)
    ap.add_argument("--pulls", type=int, default=50)
    ap.add_argument("--report", default="WJ-ELDERLY65")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--home", type=Path, help="a merged HUB_HOME to start from (copied, never changed)")
    ap.add_argument("--no-county", action="store_true", help="leave out the county-wide GA-SYRK lines")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-pulls-"))
    home = work / "home"
    lines = _Lines()
    try:
        if args.home:
            started = time.perf_counter()
            shutil.copytree(args.home, home)
            seed = time.perf_counter() - started
        else:
            seed = _seed(home, args.persons, args.townships, work)
        tokens = _token(home)
        town, other = _busiest_townships(home)
        wj, ga = tokens["卫健"], tokens["公安"]
        path = f"/api/v1/reports/{args.report}"
        feed = f"/api/v1/changes/{args.report}"
        what = f"{args.persons:,} persons" if args.persons else "sample data"
        how = f"copied from {args.home}" if args.home else "built by `hub run --no-link`"
        lines.append(f"| store ({what if not args.home else _persons(home)}) {how} | {seed:.1f} s | |")

        server = Server(home)
        try:
            # the floor: the same server answering 50 concurrent authenticated requests that read no report
            times, wall, _ = _burst(server.base, "/api/v1/reports", wj, args.pulls)
            lines.append(
                _line(f"floor: {args.pulls} concurrent GET /api/v1/reports (token, no report)", times, wall)
            )
            t, r = _get(server.base, feed, wj, township=town)
            cursor_a = r.headers["X-Hub-Cursor"]
            lines.append(
                _line(f"first changes pull (no cursor: {r.json()['counts']['added']} records), cold", [t])
            )
            t, r = _get(server.base, path, wj, township=town)
            lines.append(_line(f"full file {args.report} ({len(r.content) / 1e6:.1f} MB), first pull", [t]))
            times, wall, hashes = _burst(server.base, path, wj, args.pulls, township=town)
            assert len(hashes) == 1, "pulls of one version gave different bytes"
            lines.append(_line(f"{args.pulls} concurrent full-file pulls, warm", times, wall))
            if other != town:  # another township's file, pulled once before the upload
                t, r = _get(server.base, path, wj, township=other)
                lines.append(_line(f"full file {args.report} of {other}, first pull", [t]))
        finally:
            server.stop()

        ledger = work / "small" / "roster.csv"
        ledger.parent.mkdir()
        _small_ledger(home, town, ledger)
        started = time.perf_counter()
        _hub(home, "ingest", str(ledger), "--township", town, "--no-link", "--no-annotate", "--json")
        # `hub changes` merges what `hub ingest` stored (version B); its pull is the CLI's, cold
        out = _hub(
            home, "changes", "--report", args.report, "--township", town, "--date", REF, "--since", cursor_a
        )
        lines.append(
            f"| 100-row ledger: `hub ingest` + `hub changes` (merge, snapshot at B, diff) | "
            f"{time.perf_counter() - started:.1f} s | {out.splitlines()[0]} |"
        )

        server = Server(home)
        try:
            # the CLI computed the records at B, not the file: the burst meets a cold file
            times, wall, hashes = _burst(server.base, path, wj, args.pulls, township=town)
            assert len(hashes) == 1
            lines.append(
                _line(f"{args.pulls} concurrent full-file pulls, new version (first computes)", times, wall)
            )
            if other != town:  # the upload changed nothing of this township: its file is still current
                times, wall, _ = _burst(server.base, path, wj, args.pulls, township=other)
                lines.append(
                    _line(
                        f"{args.pulls} concurrent full-file pulls of {other}, which the upload left",
                        times,
                        wall,
                    )
                )
            t, r = _get(server.base, feed, wj, township=town, since=cursor_a)
            c = r.json()["counts"]
            lines.append(_line(f"changes pull since A (+{c['added']} ~{c['changed']} -{c['removed']})", [t]))
            t2, _ = _get(server.base, feed, wj, township=town, since=cursor_a)
            lines.append(_line("the same changes pull again", [t2]))
            if args.no_county:
                return 0
            t, r = _get(server.base, "/api/v1/changes/GA-SYRK", ga)
            lines.append(
                _line(f"GA-SYRK (county, {r.json()['records']:,} records) changes pull, cold snapshot", [t])
            )
            t, r = _get(server.base, "/api/v1/reports/GA-SYRK", ga)
            lines.append(_line(f"GA-SYRK full file ({len(r.content) / 1e6:.1f} MB), first pull", [t]))
            times, wall, _ = _burst(server.base, "/api/v1/reports/GA-SYRK", ga, args.pulls)
            lines.append(_line(f"{args.pulls} concurrent GA-SYRK pulls, warm", times, wall))
            # the contrast: the JSON rows pull is still computed on the store for every pull
            n = min(args.pulls, 10) if args.persons else args.pulls
            times, wall, _ = _burst(server.base, "/api/v1/reports/GA-SYRK", ga, n, format="json")
            lines.append(
                _line(
                    f"{n} concurrent GA-SYRK JSON pulls (computed per pull, as every pull was)", times, wall
                )
            )
        finally:
            server.stop()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Load: one huge upload beside daily ones (issue 11). Starts `hub serve` on a free loopback port in a
fresh workspace, uploads a 200,000-row xlsx of one repeated row from 青山镇 and, meanwhile, 500-row
population ledgers from four other townships (each clerk uploading one after another), and reports
the server's peak RSS (the process and its children, sampled every 0.1 s), the huge upload's outcome
and time, and the p50/p95/max of the 500-row uploads (from POST to the job's final state).

    .venv/bin/python benchmarks/bench_load.py [--rows 200000] [--small 500] [--each 3] [--json]

The huge file is generated once (XlsxWriter, constant memory) and cached under the system temp
directory. Bounded: per-request timeouts and a global deadline; the server is stopped with SIGTERM
at the end and the time it takes to exit is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import HUB, _tree_rss_mb  # noqa: E402

PASSWORD = "load-test-password-1"
DEADLINE_S = 1800
HEADER = [
    "序号",
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "公民身份号码",
    "村(社区)",
    "户编号",
    "与户主关系",
    "居住地址",
    "联系电话",
]
# 青山镇 (the huge upload) and four townships of daily uploads: code, name, two villages
TOWNS = [
    ("331099101", "青山镇", ["331099101001", "331099101201"]),
    ("331099001", "城关街道", ["331099001001", "331099001201"]),
    ("331099102", "白沙镇", ["331099102201", "331099102202"]),
    ("331099103", "石门乡", ["331099103201", "331099103202"]),
    ("331099104", "龙潭镇", ["331099104201", "331099104202"]),
]
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def huge_file(rows: int) -> Path:
    """The reviewer's file: ``rows`` identical rows under one header (about 7 MB for 200,000)."""
    import xlsxwriter

    path = Path(tempfile.gettempdir()) / f"hub_bench_dup_{rows}.xlsx"
    if path.exists():
        return path
    tmp = path.with_suffix(".part.xlsx")
    wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
    ws = wb.add_worksheet("人口")
    ws.write_row(0, 0, HEADER)
    row = ["1", "钟国强", "男", "汉族", "1936-10-03", "331099193610038771", "青山社区", "1010010005", "户主",
           "示例县青山镇青山社区上街14号", "13857573955"]  # fmt: skip
    for i in range(rows):
        ws.write_row(i + 1, 0, row)
    wb.close()
    tmp.rename(path)
    return path


def small_file(folder: Path, town: tuple[str, str, list[str]], k: int, rows: int) -> Path:
    """A township's population ledger of ``rows`` distinct people (valid IDs), the k-th of its uploads."""
    from openpyxl import Workbook

    from hub.synth.checkdigits import make_id

    code, name, villages = town
    wb = Workbook()
    ws = wb.active
    ws.title = "人口"
    ws.append(HEADER)
    for i in range(rows):
        n = k * (rows // 2) + i  # each upload repeats half of the previous one (people recur)
        born = date(1940, 1, 1) + timedelta(days=(n * 37 + int(code[-3:]) * 11) % 25_000)
        male = n % 2 == 0
        person = SURNAMES[n % len(SURNAMES)] + GIVEN[(7 * n) % len(GIVEN)] + GIVEN[(3 * n + k) % len(GIVEN)]
        pid = make_id("331099", born, 100 + 2 * ((n + int(code[-3:])) % 400) + (1 if male else 0))
        ws.append([str(i + 1), person, "男" if male else "女", "汉族", born.isoformat(), pid,
                   villages[i % 2], f"{code[-3:]}{i // 3:06d}", "户主" if i % 3 == 0 else "子",
                   f"示例县{name}人民路{i}号", f"138{n % 100_000_000:08d}"])  # fmt: skip
    path = folder / f"{name}_人口台账_{k}.xlsx"
    wb.save(path)
    return path


def _seed(home: Path) -> bool:
    """Divisions (the sample county plus three townships), one clerk per township, and the sample
    ledgers of 青山镇 and 城关街道 ingested: a working store whose linkage model is trained and saved
    (as in a county in use). Returns whether the model was saved."""
    divisions = home / "divisions.csv"
    lines = (ROOT / "sample_data" / "divisions.csv").read_text(encoding="utf-8").splitlines()
    for code, name, villages in TOWNS[2:]:
        lines.append(f"{code},{name}")
        lines += [f"{v},{name}{j + 1}村" for j, v in enumerate(villages)]
    divisions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "HUB_HOME": str(home)}
    subprocess.run([HUB, "divisions", "load", str(divisions)], env=env, check=True, capture_output=True)
    ledgers = sorted(str(p) for p in (ROOT / "sample_data").iterdir() if p.suffix in (".xlsx", ".csv")
                     and p.name != "divisions.csv")  # fmt: skip
    subprocess.run([HUB, "ingest", *ledgers, "--no-annotate"], env=env, capture_output=True)
    for code, _, _ in TOWNS:
        subprocess.run(
            [HUB, "users", "add", f"c{code}", "--role", "clerk", "--township", code, "--password", PASSWORD],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
    return (home / "linkage" / "model.json").exists()


class Clerk:
    def __init__(self, base: str, name: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
        page = self.http.get("/login").text
        r = self.http.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": _csrf(page)})
        assert r.status_code == 303, r.text

    def upload(self, path: Path) -> dict[str, Any]:
        """Upload and wait for the job's final state; returns the job plus ``seconds``."""
        started = time.perf_counter()
        token = _csrf(self.http.get("/clerk").text)
        with path.open("rb") as fh:
            r = self.http.post("/clerk/upload", data={"csrf_token": token}, files=[("files", (path.name, fh))],
                               headers={"Accept": "application/json"})  # fmt: skip
        assert r.status_code == 200, r.text
        url = r.json()["url"]
        while True:
            job = self.http.get(url, headers={"Accept": "application/json"}).json()
            if job.get("final"):
                return {**job, "seconds": time.perf_counter() - started}
            time.sleep(0.2)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token"
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--each", type=int, default=3, help="500-row uploads per other township")
    parser.add_argument("--time-limit", type=float, default=None, help="HUB_JOB_TIME_LIMIT_S of the server")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--log",
        type=Path,
        default=None,
        help="write the server's log here (each store unit: waited, held; each job's steps)",
    )
    args = parser.parse_args()

    big = huge_file(args.rows)
    with tempfile.TemporaryDirectory(prefix="hub-load-") as tmp:
        home, files = Path(tmp) / "home", Path(tmp) / "files"
        home.mkdir()
        files.mkdir()
        trained = _seed(home)
        smalls = {t[0]: [small_file(files, t, k, args.small) for k in range(args.each)] for t in TOWNS[1:]}
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "HUB_HOME": str(home)}
        if args.time_limit:
            env["HUB_JOB_TIME_LIMIT_S"] = f"{args.time_limit:g}"
        log = args.log.open("w", encoding="utf-8") if args.log else subprocess.DEVNULL
        server = subprocess.Popen([HUB, "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
        peak, done = 0.0, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.1):
                peak = max(peak, _tree_rss_mb(server.pid))

        threading.Thread(target=sample, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                import httpx

                httpx.get(base + "/login", timeout=2)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        idle = _tree_rss_mb(server.pid)
        results: dict[str, Any] = {}

        ended: dict[str, float] = {}

        def huge() -> None:
            results["huge"] = Clerk(base, f"c{TOWNS[0][0]}").upload(big)
            ended["huge"] = time.perf_counter()

        def daily(code: str) -> None:
            clerk = Clerk(base, f"c{code}")
            results[code] = [clerk.upload(p) for p in smalls[code]]
            ended[code] = time.perf_counter()

        clock = time.perf_counter()
        threads = [threading.Thread(target=huge)]
        threads[0].start()
        time.sleep(2)  # the huge upload is in before the daily ones start
        threads += [threading.Thread(target=daily, args=(code,)) for code in smalls]
        for t in threads[1:]:
            t.start()
        for t in threads:
            t.join(max(1.0, DEADLINE_S - (time.perf_counter() - clock)))
        total = time.perf_counter() - clock
        stop = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        stop_s = time.perf_counter() - stop
        done.set()
        if not isinstance(log, int):
            log.close()

    small_times = sorted(j["seconds"] for code in smalls for j in results.get(code, []))
    small_ok = sum(1 for code in smalls for j in results.get(code, []) if j["status"] == "done")
    h = results.get("huge", {})
    p95 = small_times[max(0, int(round(0.95 * len(small_times))) - 1)] if small_times else float("nan")
    out = {
        "rows": args.rows,
        "model_saved_before": trained,
        "huge_status": h.get("status"),
        "huge_file_status": [r.get("status") for r in h.get("reports", [])],
        "huge_accepted": h.get("totals", {}).get("accepted"),
        "huge_seconds": round(h.get("seconds", float("nan")), 1),
        "huge_message": h.get("message")
        or "; ".join(str(r.get("message") or "") for r in h.get("reports", [])),
        "small_landed_before_huge_ended": sum(
            1 for code in smalls if code in ended and ended[code] < ended.get("huge", float("inf"))
        ),
        "small_uploads": len(small_times),
        "small_done": small_ok,
        "small_p50_s": round(statistics.median(small_times), 2) if small_times else None,
        "small_p95_s": round(p95, 2),
        "small_max_s": round(small_times[-1], 2) if small_times else None,
        "server_idle_mb": round(idle),
        "server_peak_mb": round(peak),
        "wall_s": round(total, 1),
        "sigterm_exit_s": round(stop_s, 1),
        "sigterm_returncode": server.returncode,
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    print(f"200k-row duplicate upload: {out['huge_status']} {out['huge_file_status']}, accepted "
          f"{out['huge_accepted']}, {out['huge_seconds']} s")  # fmt: skip
    print(f"  message: {out['huge_message']}")
    print(
        f"townships whose uploads all landed before the huge job ended: {out['small_landed_before_huge_ended']}"
    )
    print(f"{args.small}-row uploads: {small_ok}/{len(small_times)} done; p50 {out['small_p50_s']} s, "
          f"p95 {out['small_p95_s']} s, max {out['small_max_s']} s")  # fmt: skip
    print(f"server RSS: idle {out['server_idle_mb']} MB, peak {out['server_peak_mb']} MB; "
          f"SIGTERM → exit in {out['sigterm_exit_s']} s (code {out['sigterm_returncode']})")  # fmt: skip


if __name__ == "__main__":
    main()

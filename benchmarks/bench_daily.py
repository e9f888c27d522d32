"""Issue 12 targets, end to end through the CLI, on a linked store of N persons: a 100-row upload
(validated, linked against the store, merged) and a steward's review decision, each beside the full
rebuild (`hub rebuild`: the whole linkage, then the full merge) measured in the same run on the same
state, and the two stores compared table by table.

    .venv/bin/python benchmarks/bench_daily.py --home /path/to/linked/HUB_HOME   # reuse a store
    .venv/bin/python benchmarks/bench_daily.py --persons 1000000                 # build one first

The store is built (when no --home) by `hub run` over bench_run.py's generator (with linkage). Every
step runs on a copy; the given store is never changed. ``--server`` adds the clerk's path: the same
kind of upload through `hub serve` (a process that has served before), then the department's pull of
the township's report; ``--no-rebuild`` leaves out the full rebuild and the comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import HUB, generate_ledgers, machine, measure, print_table  # noqa: E402

from hub.standards.ids import id_check_char  # noqa: E402

TABLES = {
    "hub_person": "*",
    "hub_household": "*",
    "hub_membership": "*",
    "hub_codes": "entity, natural_key, code, redirect_to",
    "hub_rows": "*",
    "hub_findings": "*",
    "hub_link_clusters": "*",
    "hub_link_pairs": "* EXCLUDE (scored_at)",
}


def _q(home: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    import duckdb

    con = duckdb.connect(str(home / "hub.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def small_ledger(home: Path, path: Path, rows: int, seed: int = 7, rank: int = 0) -> str:
    """A clerk's daily roster of the busiest township (``rank`` 1: the next busiest): 60 % residents
    already known (a new phone), 40 % new residents with valid IDs. Returns the township code."""
    town = str(
        _q(home, "SELECT township_code FROM hub_person GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET ?",
           [rank])[0][0]
    )  # fmt: skip
    known = _q(
        home,
        """SELECT p.name, p.id_number, p.sex, p.birth_date, d.name FROM hub_person p
           JOIN hub_divisions d ON d.code = p.village_code WHERE p.township_code = ? AND p.alive
           ORDER BY p.person_code LIMIT ?""",
        [town, rows * 6 // 10],
    )
    village = known[0][4]
    rng = random.Random(seed)
    taken = {r[0] for r in _q(home, "SELECT id_number FROM hub_person WHERE township_code = ?", [town])}
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "公民身份号码", "性别", "出生日期", "村（社区）", "联系电话", "人员状态"])
        for i, (name, idn, sex, birth, vil) in enumerate(known):
            w.writerow([name, idn, "男" if sex == "1" else "女", birth, vil, f"139{i:08d}", "正常"])
        for i in range(rows - len(known)):
            while True:
                born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 25000))
                male = rng.random() < 0.5
                first17 = f"{town[:6]}{born:%Y%m%d}{rng.randrange(900, 999):03d}"
                first17 = first17[:16] + str((int(first17[16]) // 2) * 2 + (1 if male else 0))
                idn = first17 + id_check_char(first17)
                if idn not in taken:
                    taken.add(idn)
                    break
            name = (
                rng.choice("赵钱孙李周吴郑王冯陈")
                + rng.choice("建国秀英丽华志强桂兰")
                + rng.choice("明芳军静")
            )
            w.writerow([name, idn, "男" if male else "女", born, village, f"138{i:08d}", "正常"])
    return town


def _compare(a: Path, b: Path) -> list[str]:
    """Tables that differ between stores a and b (EXCEPT ALL both ways)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{a / 'hub.duckdb'}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b / 'hub.duckdb'}' AS b (READ_ONLY)")
    bad = []
    for t, cols in TABLES.items():
        n = con.execute(
            f"SELECT count(*) FROM ((SELECT {cols} FROM a.{t} EXCEPT ALL SELECT {cols} FROM b.{t}) "
            f"UNION ALL (SELECT {cols} FROM b.{t} EXCEPT ALL SELECT {cols} FROM a.{t}))"
        ).fetchone()[0]
        if n:
            bad.append(f"{t} ({n} rows)")
    con.close()
    return bad


def through_server(base: Path, work: Path, rows: int) -> list[str]:
    """The clerk's path: `hub serve` on a copy of ``base`` (a process that has served before: one
    20-row upload of another township first), then the measured upload (POST to the job's final
    state: read, validated, stored, linked, annotated copy, merged), then the department's first
    pull of the township's WJ-ELDERLY65 file (computed for the new data version) and a second one."""
    from bench_load import PASSWORD, Clerk
    from bench_pulls import REF, Server, _get, _token

    home = work / "srv"
    shutil.copytree(base, home)
    town = small_ledger(home, work / "srv_daily.csv", rows, seed=11)
    other = small_ledger(home, work / "srv_warm.csv", 20, seed=12, rank=1)
    env = {**os.environ, "HUB_HOME": str(home)}
    for code in (town, other):
        subprocess.run([HUB, "users", "add", f"c{code}", "--role", "clerk", "--township", code,
                        "--password", PASSWORD], env=env, check=True, capture_output=True)  # fmt: skip
    subprocess.run([HUB, "users", "add", "bench_steward", "--role", "steward", "--password", PASSWORD],
                   env=env, check=True, capture_output=True)  # fmt: skip
    token = _token(home)["卫健"]
    server = Server(home)
    try:
        warm = Clerk(server.base, f"c{other}").upload(work / "srv_warm.csv")
        job = Clerk(server.base, f"c{town}").upload(work / "srv_daily.csv")
        path = "/api/v1/reports/WJ-ELDERLY65"
        first, _ = _get(server.base, path, token, township=town)
        again, _ = _get(server.base, path, token, township=town)
        # a steward's decision from the command line while the server runs: the CLI hands it to the
        # server (its admin channel), whose process has linked and merged before
        pending = json.loads(subprocess.run([HUB, "review", "--json"], env=env, capture_output=True, text=True,
                                            check=True).stdout or "[]")  # fmt: skip
        pairs = pending if isinstance(pending, list) else pending.get("pairs", [])
        decided = []
        for k, pair in enumerate(pairs[:2]):  # a steward deciding pairs one after another
            which = "first" if k == 0 else "next"
            decided.append(measure(f"review decision beside `hub serve`, the {which} (`hub review accept {pair['pair_id']}`)",
                                   [HUB, "review", "accept", str(pair["pair_id"]), "--json"], env=env))  # fmt: skip
        on_page = _decide_on_page(Clerk(server.base, "bench_steward").http, 4)
    finally:
        server.stop()
    status = [r.get("status") for r in job.get("reports", [])]
    return (
        [
            f"| through `hub serve`: a 20-row upload of {other} first (the process warms) | {warm['seconds']:.2f} s | |",
            f"| through `hub serve`: {rows}-row upload of {town}, POST to done (linked, merged) {status} "
            f"| **{job['seconds']:.2f} s** | |",
            f"| then the department's first pull of {town}'s WJ-ELDERLY65 (computed for the new data) "
            f"| {first:.2f} s | date {REF} |",
            f"| the same pull again (served from the cache) | {again:.2f} s | |",
        ]
        + [d.line() for d in decided]
        + on_page
    )


def _decide_on_page(http: Any, count: int) -> list[str]:
    """A steward deciding the strongest pending pair on 记录复核 (/steward/review), ``count`` times:
    accept, reject, accept…; each POST returns once the decision is applied (linkage and merge), then
    the page lists the next pairs."""
    import re

    from bench_load import _csrf

    lines = []
    page = http.get("/steward/review").text
    for k in range(count):
        found = re.search(r'data-pair="([0-9a-f]+)"', page)
        if not found:
            break
        pair, decision = found.group(1), ("accept" if k % 2 == 0 else "reject")
        started = time.perf_counter()
        r = http.post(f"/steward/review/{pair}", data={"decision": decision, "csrf_token": _csrf(page)})
        applied = time.perf_counter() - started
        assert r.status_code == 303, r.text
        started = time.perf_counter()
        listed = http.get(r.headers["location"])
        assert listed.status_code == 200 and 'id="decided"' in listed.text, listed.text[:500]
        page = listed.text
        lines.append(
            f"| review decision on the steward's page (记录复核), {decision} {pair}: applied / the page of the next pairs "
            f"| **{applied:.2f} s** / {time.perf_counter() - started:.2f} s | |"
        )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path, help="a linked HUB_HOME to start from (copied, never changed)")
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--server", action="store_true", help="also the clerk's upload through `hub serve`")
    ap.add_argument("--no-rebuild", action="store_true", help="skip the full rebuild and the comparison")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-daily-"))
    try:
        base = args.home
        if base is None:
            data = generate_ledgers(work / "data", args.persons, 8, "csv")
            base = work / "base"
            subprocess.run([HUB, "run", str(data), "--date", "2026-11-30", "--out", str(work / "o"), "--json"],
                           env={"HUB_HOME": str(base), "PATH": str(Path(HUB).parent)}, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        persons = _q(base, "SELECT count(*) FROM hub_person")[0][0]
        print(f"machine: {machine()}\nstore: {persons:,} persons ({base})", flush=True)
        inc, full = work / "inc", work / "full"
        shutil.copytree(base, inc)
        ledger = work / "daily.csv"
        town = small_ledger(base, ledger, args.rows)
        env = {"HUB_HOME": str(inc)}
        rows = [
            measure(f"{args.rows}-row upload of {town}: `hub ingest` (validated, linked against the store)",
                    [HUB, "ingest", str(ledger), "--no-annotate", "--json"], env=env),  # fmt: skip
            measure(f"the merge and {town}'s WJ-ELDERLY65 file (`hub export --report WJ-ELDERLY65 --township`)",
                    [HUB, "export", "--report", "WJ-ELDERLY65", "--township", town, "--date", "2026-11-30",
                     "--out", str(work / "exp"), "--json"], env=env),
        ]  # fmt: skip
        mode = _q(inc, "SELECT plain FROM hub_link_state")
        differ: list[str] | None = None
        if not args.no_rebuild:
            shutil.copytree(inc, full)
            rows.append(measure("full rebuild of the same state (`hub rebuild`: whole linkage + full merge)",
                                [HUB, "rebuild", "--json"], env={"HUB_HOME": str(full)}))  # fmt: skip
            differ = _compare(inc, full)
            shutil.rmtree(full, ignore_errors=True)
        pending = json.loads(
            subprocess.run([HUB, "review", "--json"], env={"HUB_HOME": str(inc), "PATH": str(Path(HUB).parent)},
                           capture_output=True, text=True, check=True).stdout or "[]")  # fmt: skip
        pairs = pending if isinstance(pending, list) else pending.get("pairs", [])
        if pairs:
            pair = str(pairs[0]["pair_id"])
            rows.append(measure(f"review decision (`hub review accept {pair}`), linkage + merge applied",
                                [HUB, "review", "accept", pair, "--json"], env=env))  # fmt: skip
        shutil.rmtree(inc, ignore_errors=True)
        print_table(rows)
        if args.server:
            for line in through_server(base, work, args.rows):
                print(line, flush=True)
        upload = rows[0].seconds + rows[1].seconds
        print(f"\nupload linked + merged (CLI, two processes): {upload:.1f} s; store left plain: {mode}")
        if differ is not None:
            print(f"full rebuild: {rows[2].seconds:.1f} s; ratio {rows[2].seconds / upload:.1f}×")
            print(
                "incremental == full rebuild: "
                + ("yes, every table" if not differ else "NO: " + ", ".join(differ))
            )
        return 0 if not differ else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

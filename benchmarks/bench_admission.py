"""Admission review of a 30-column draft (target ≤ 2 s), on the sample-data store and on a
1,000,000-person store.

The draft is the union of three public forms' columns (tests/data/admission: 残疾人生活补贴申请审批表,
实有人口批量采集表, 耕地地力保护补贴发放清册; 15 + 9 + 6 = 30 columns, headers as published). The
review reads the draft, places every column with the ledger recogniser, classifies it, compares it
with the registered reports, and counts the draft's population per township in the store (one SQL
statement). Measured in-process (the store open, as the web page and a CLI run inside `hub serve`
find it) and as a whole `hub admission review` command (Python start-up and store opening included).

    .venv/bin/python benchmarks/bench_admission.py [--persons 1000000] [--skip-sample]

The sample store is built by ingesting sample_data (no linkage) and merging. The large store is
built by SQL straight into the merged tables (persons in 8 townships × 25 villages, 4 % with a
disability, a household of every four, every 30th household 低保): the review reads only the merged views, so how they were filled does not matter here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FORMS = ["cl_canji_butie", "ga_syrk_caiji", "nz_dili_butie"]


def draft(path: Path) -> Path:
    cols: list[str] = []
    for name in FORMS:
        data = yaml.safe_load(
            (ROOT / "tests" / "data" / "admission" / f"{name}.yaml").read_text(encoding="utf-8")
        )
        cols += [c if isinstance(c, str) else c["label"] for c in data["columns"]]
    cols = cols[:30]
    assert len(cols) == 30, len(cols)
    path.write_text(
        yaml.safe_dump(
            {
                "title": "困难残疾人补贴与实有人口核对表",
                "department": "残联",
                "period": "monthly",
                "columns": cols,
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path


def sample_store(home: Path) -> None:
    from hub.facade import Hub

    hub = Hub(home)
    hub.load_divisions(ROOT / "sample_data" / "divisions.csv")
    files = sorted(
        p
        for p in (ROOT / "sample_data").glob("*")
        if p.suffix in (".xlsx", ".xls", ".csv") and p.name != "divisions.csv"
    )
    hub.ingest(files, annotate=False, link=False)
    hub.merge()
    hub.close()


def large_store(home: Path, persons: int) -> None:
    from hub.store.db import Database

    home.mkdir(parents=True, exist_ok=True)
    db = Database(home / "hub.duckdb")
    db.execute("INSERT INTO hub_divisions SELECT '331099000000', 'X县', 'county', NULL, NULL")
    db.execute(
        "INSERT INTO hub_divisions SELECT printf('3310991%02d', t), printf('第%d镇', t), 'township', '331099000000', NULL "
        "FROM range(8) r(t)"
    )
    db.execute(
        "INSERT INTO hub_divisions SELECT printf('3310991%02d%03d', t, v), printf('第%d镇%d村', t, v), 'village', "
        "printf('3310991%02d', t), '村' FROM range(8) a(t), range(25) b(v)"
    )
    db.execute(
        f"""INSERT INTO hub_person
        SELECT printf('P%09d', i), printf('331099%08d%04d', 19300101 + (i % 90) * 10000 + (i % 12) * 100 + i % 28 + 1, i % 10000),
               'ID', printf('人%d', i), CAST(1 + i % 2 AS VARCHAR),
               DATE '1930-01-01' + CAST(i % 32000 AS INTEGER), '01', '20',
               printf('3310991%02d', i % 8), printf('3310991%02d%03d', i % 8, (i // 8) % 25),
               '某村某组', '13800000000', i % 97 <> 0, NULL, TIMESTAMP '2026-11-01 00:00:00'
        FROM range({persons}) r(i)"""
    )
    db.execute(
        "INSERT INTO hub_disability SELECT person_code, CAST(1 + abs(hash(person_code)) % 7 AS VARCHAR), "
        "CAST(1 + abs(hash(person_code)) % 4 AS VARCHAR), NULL FROM hub_person WHERE abs(hash(person_code)) % 25 = 0"
    )
    db.execute(  # a household of every four persons, every 30th of them a 低保 household
        "INSERT INTO hub_household SELECT printf('H%09d', h), CASE WHEN h % 30 = 0 THEN '低保家庭' ELSE '户籍户' END, "
        "printf('3310991%02d', (h * 4) % 8), printf('3310991%02d%03d', (h * 4) % 8, ((h * 4) // 8) % 25), "
        "printf('P%09d', h * 4), '2', 4, 2, 600.00, DATE '2024-01-01', true "
        f"FROM range({persons // 4}) r(h)"
    )
    db.execute(
        "INSERT INTO hub_membership SELECT printf('H%09d', i // 4), printf('P%09d', i), "
        f"CASE WHEN i % 4 = 0 THEN '02' ELSE '20' END, true, i % 4 + 1 FROM range({persons // 4 * 4}) r(i)"
    )
    db.close()


def measure(home: Path, draft_path: Path, label: str) -> list[str]:
    os.environ["HUB_HOME"] = str(home)
    from hub.facade import Hub

    hub = Hub(home)
    hub.db  # noqa: B018 -- open the store first: the page and the server's CLI find it open
    started = time.perf_counter()
    review = hub.admission_submit(draft_path, department="残联", by="bench")
    first = time.perf_counter() - started
    times = []
    for _ in range(5):
        started = time.perf_counter()
        hub.admission_review(review["draft_id"])
        times.append(time.perf_counter() - started)
    hub.close()
    started = time.perf_counter()
    cmd = [str(Path(sys.executable).parent / "hub"), "admission", "review", str(review["draft_id"]), "--json"]
    done = subprocess.run(cmd, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    whole = time.perf_counter() - started
    assert done.returncode == 0, done.stderr.decode()
    county = review["burden"]["county"]
    counts = review["counts"]
    return [
        f"| {label} | {county['records']:,} | {first:.2f} s | {statistics.median(times):.2f} s | {whole:.2f} s |",
        f"  classes: {counts}; cells/month with the hub {county['per_month_with_hub']:,}, without {county['per_month_without_hub']:,}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--skip-sample", action="store_true")
    ap.add_argument("--large-home", type=Path, help="build the large store here once, reuse it next time")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-admission-") as tmp:
        root = Path(tmp)
        for name in ("schemas", "mappings"):  # the review writes nothing there, but keep the tree clean
            os.environ[f"HUB_{name.upper()}"] = str(ROOT / name)
        d = draft(root / "draft.yaml")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(
            "| store | population counted | submit + first review | review (median of 5) | `hub admission review --json` |"
        )
        print("|---|---|---|---|---|")
        if not args.skip_sample:
            sample_store(root / "sample")
            for line in measure(root / "sample", d, "sample_data (2 townships)"):
                print(line)
        large = args.large_home or root / "large"
        if not (large / "hub.duckdb").exists():
            started = time.perf_counter()
            large_store(large, args.persons)
            print(f"  (large store built in {time.perf_counter() - started:.1f} s)")
        for line in measure(large, d, f"{args.persons:,} persons, 8 townships"):
            print(line)


if __name__ == "__main__":
    main()

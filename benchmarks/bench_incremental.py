"""Benchmark: the incremental merge beside the full merge, in the same run, on N persons.

    .venv/bin/python benchmarks/bench_incremental.py [--persons 1000000] [--db /tmp/bench_incr.duckdb]

Builds the store of ``benchmarks/bench_merge.py`` (N persons + ~15% second-ledger rows), merges it once
(full: every code new), then times three daily steps, each merged incrementally and then fully on the
same state (the oracle), and checks the two give the same tables (``EXCEPT`` both ways):

* a 100-row upload: a population roster of 100 rows (60 persons already known with changed phone and
  address, 40 new persons in 20 new 户籍 households);
* a review decision as linkage applies it: one person's code redirected to another's (the two merged);
* the same decision undone (a split).

Prints each time, the ratio to the full merge and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_merge import build  # noqa: E402
from hub.dedupe import merge  # noqa: E402
from hub.dedupe.incremental import merge_incremental  # noqa: E402
from hub.store.db import Database  # noqa: E402

TABLES = ("hub_person", "hub_disability", "hub_household", "hub_membership", "hub_business", "hub_conflicts")


def upload(db: Database, sid: int) -> None:
    db.execute(
        "INSERT INTO hub_submissions SELECT ?, 'daily-' || ?, 'shad' || ?, '330702001', 'population', "
        "TIMESTAMP '2026-06-01' + to_minutes(?), NULL, 100, 100, 0, 0, 0, NULL, NULL",
        [sid, sid, sid, sid],
    )
    db.execute(
        f"""INSERT INTO hub_rows BY NAME
        SELECT {sid} AS submission_id, '花名册' AS sheet, CAST(i + 3 AS INTEGER) AS row_no, '330702001' AS township_code,
               'population' AS kind, true AS accepted,
               CASE WHEN i < 60 THEN '330702' || lpad(CAST(i * 997 + 11 AS VARCHAR), 12, '0')
                    ELSE '339999' || lpad(CAST({sid} * 1000 + i AS VARCHAR), 12, '0') END AS id_number,
               'resident' AS id_type, '新姓名' || i AS name, CAST(1 + i % 2 AS VARCHAR) AS sex,
               DATE '1960-01-01' + CAST(i AS INTEGER) AS birth_date, '01' AS ethnicity,
               '330702001001' AS village_code, '新地址' || i AS address, '13900000' || lpad(CAST(i AS VARCHAR), 3, '0') AS phone,
               '1' AS person_status, 'N{sid}-' || CAST(i // 2 AS VARCHAR) AS household_no,
               CASE WHEN i % 2 = 0 THEN '02' ELSE '20' END AS relation
        FROM generate_series(0, 99) g(i)"""
    )


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(db: Database, label: str, change: str | None, sid: int) -> tuple[float, float]:
    if change == "upload":
        upload(db, sid)
    elif change is not None:
        db.execute(change)
    t0 = time.perf_counter()
    merge_incremental(db)
    inc = time.perf_counter() - t0
    state = db.dicts("SELECT * FROM hub_merge_state")[0]
    for t in TABLES:
        db.execute(f"CREATE OR REPLACE TEMP TABLE _b_{t} AS SELECT * FROM {t}")
    t0 = time.perf_counter()
    merge(db)
    full = time.perf_counter() - t0
    for t in TABLES:
        diff = db.scalar(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM _b_{t} EXCEPT ALL SELECT * FROM {t})) + "
            f"(SELECT count(*) FROM (SELECT * FROM {t} EXCEPT ALL SELECT * FROM _b_{t}))"
        )
        assert diff == 0, f"{label}: {t} differs from the full merge in {diff} rows"
        db.execute(f"DROP TABLE _b_{t}")
    print(
        f"{label:<38} incremental {inc:6.2f} s  full {full:6.2f} s  ({full / inc:5.1f}× faster; "
        f"recomputed persons {state['persons'] if state['mode'] == 'incremental' else '-'}, "
        f"households {state['households'] if state['mode'] == 'incremental' else '-'})  identical tables: yes",
        flush=True,
    )
    return inc, full


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/bench_incr.duckdb")
    args = ap.parse_args()
    path = Path(args.db)
    path.unlink(missing_ok=True)
    db = Database(path)
    t0 = time.perf_counter()
    build(db, args.persons)
    # bench_merge numbers rows i // 20 + 4 within a township's roster, so a few rows of one sheet share
    # a row number; the order inside a household (seq) then depends on the engine, in either merge.
    # Number them apart (as a ledger's rows are).
    db.execute(
        "CREATE OR REPLACE TABLE hub_rows AS SELECT * REPLACE (CAST(row_number() OVER "
        "(PARTITION BY submission_id, sheet ORDER BY row_no, id_number) + 3 AS INTEGER) AS row_no) FROM hub_rows"
    )
    rows = db.scalar("SELECT count(*) FROM hub_rows")
    print(f"built {rows:,} hub_rows in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    merge_incremental(db)  # no snapshot yet: the full merge
    print(f"first merge (full, every code new)     {time.perf_counter() - t0:6.2f} s", flush=True)
    step(db, "100-row upload", "upload", 1001)
    a, b = (
        db.scalar(f"SELECT code FROM hub_codes WHERE entity = 'person' AND natural_key = '330702{n:012d}'")
        for n in (5000, 5001)
    )
    step(
        db, "review accept (codes merged)", f"UPDATE hub_codes SET redirect_to = '{a}' WHERE code = '{b}'", 0
    )
    step(db, "review undone (codes split)", f"UPDATE hub_codes SET redirect_to = NULL WHERE code = '{b}'", 0)
    step(db, "nothing changed", None, 0)
    print(f"peak RSS {rss_mb():,.0f} MB", flush=True)
    db.close()
    path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

"""Benchmark: a township's monthly roster resubmitted into a store of N persons (hub/exchange/departures).

    .venv/bin/python benchmarks/bench_resubmission.py [--persons 1000000] [--db /tmp/bench_resub.duckdb]

Builds the store of ``bench_merge.py`` (20 townships, one population roster each, ~1.15 rows per
person), merges it, then stores a resubmission of one township's roster (~50,000 persons at 1M):
1% left out, 1% with a changed phone, 500 new persons. Times, in the same run: the comparison that
supersedes the old roster and flags who left (``supersede``), the merge after it beside the merge
before it, and a full scan of the rows in force (``rows_sql``) with and without the supersession
filter. Prints the counts (added / changed / left) and the peak RSS.
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
from hub.dedupe.values import IN_FORCE, KEYS_SQL, rows_sql  # noqa: E402
from hub.exchange.departures import describe, supersede  # noqa: E402
from hub.store.db import Database  # noqa: E402

NEW = 81


def resubmit(db: Database) -> int:
    """Submission NEW: submission 2's roster again, 1% left out, 1% with a new phone, 500 new persons."""
    db.execute(
        """INSERT INTO hub_submissions SELECT 81, 'ledger-2_2026年12月.xlsx', 'sha81', township_code, kind,
           TIMESTAMP '2026-12-01', NULL, 0, 0, 0, 0, 0, NULL, NULL FROM hub_submissions WHERE submission_id = 2"""
    )
    db.execute(
        f"""INSERT INTO hub_rows BY NAME
            SELECT * REPLACE ({NEW} AS submission_id,
                              CASE WHEN hash(id_number) % 100 = 1 THEN '13900000000' ELSE phone END AS phone)
            FROM hub_rows WHERE submission_id = 2 AND hash(id_number) % 100 <> 0
            UNION ALL BY NAME
            (SELECT * REPLACE ({NEW} AS submission_id,
                               '990000' || lpad(CAST(row_number() OVER (ORDER BY id_number) AS VARCHAR), 12, '0')
                               AS id_number, CAST(1000000 + row_number() OVER (ORDER BY id_number) AS INTEGER) AS row_no)
             FROM hub_rows WHERE submission_id = 2 ORDER BY id_number LIMIT 500)"""
    )
    return int(db.scalar(f"SELECT count(*) FROM hub_rows WHERE submission_id = {NEW}"))


def scan(db: Database, sql: str) -> float:
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        db.scalar(f"SELECT count(*), count(DISTINCT id_number) FROM ({sql})")
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/bench_resub.duckdb")
    args = ap.parse_args()
    path = Path(args.db)
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    db = Database(path)
    t = time.perf_counter()
    build(db, args.persons)
    print(
        f"store: {db.scalar('SELECT count(*) FROM hub_rows'):,} rows, built in {time.perf_counter() - t:.1f} s"
    )
    merge(db)
    t = time.perf_counter()
    before = merge(db)
    remerge = time.perf_counter() - t
    rows = resubmit(db)
    t = time.perf_counter()
    supersede(db, [NEW])
    compare = time.perf_counter() - t
    what = describe(db, NEW) or {}
    t = time.perf_counter()
    after = merge(db)
    merged = time.perf_counter() - t
    keys = f"({KEYS_SQL})"
    with_filter = scan(db, rows_sql(keys))
    without = scan(db, rows_sql(keys).replace(f" AND {IN_FORCE}", ""))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"resubmission: {rows:,} rows; added {what.get('added')}, changed {what.get('changed')}, left {what.get('left')}"
    )
    print(f"supersede (compare, flag, record): {compare:.3f} s")
    print(f"merge before the resubmission: {remerge:.2f} s ({before.persons:,} persons)")
    print(f"merge after it:                {merged:.2f} s ({after.persons:,} persons)")
    print(
        f"rows in force, full scan: {with_filter:.3f} s with the supersession filter, {without:.3f} s without"
    )
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()

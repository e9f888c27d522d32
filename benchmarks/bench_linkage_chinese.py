"""The Chinese synthetic linkage set (benchmarks/gen_chinese_linkage.py) through the hub's linkage stage,
beside a plain Splink configuration on the same records, in the same run. Pairwise precision / recall
over records (two records of one person in one cluster = a true pair). Usage:
``.venv/bin/python benchmarks/bench_linkage_chinese.py 100000 [1000000 ...]``; results on stdout.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.gen_chinese_linkage import generate, load
from hub.dedupe.linkage.config import LinkageConfig
from hub.dedupe.linkage.pipeline import run_linkage
from hub.dedupe.linkage.records import build_input
from hub.store.db import Database

_EVAL = """
WITH t AS (SELECT c.uid, b.person, c.{key} AS k FROM {clusters} c JOIN hub_link_source s ON s.uid = c.uid
           JOIN bench_truth b ON b.submission_id = s.submission_id AND b.sheet = s.sheet AND b.row_no = s.row_no),
pred AS (SELECT sum(n * (n - 1) / 2) AS p FROM (SELECT count(*) AS n FROM t GROUP BY k)),
true_ AS (SELECT sum(n * (n - 1) / 2) AS p FROM (SELECT count(*) AS n FROM t GROUP BY person)),
both_ AS (SELECT sum(n * (n - 1) / 2) AS p FROM (SELECT count(*) AS n FROM t GROUP BY k, person))
SELECT (SELECT p FROM pred), (SELECT p FROM true_), (SELECT p FROM both_)
"""


def evaluate(db: Database, clusters: str, key: str) -> tuple[float, float]:
    pred, true, both = db.rows(_EVAL.format(clusters=clusters, key=key))[0]
    return float(both) / float(pred), float(both) / float(true)


#: The records as submitted, taken BEFORE the hub's stage runs (so plain Splink does not see the IDs
#: the hub filled in or the copied IDs it set aside).
PLAIN_INPUT = """CREATE OR REPLACE TABLE plain_in AS SELECT uid, name, sex, birth_date, village_code, phone,
                 coalesce(id_valid, id_text) AS id FROM hub_link_source"""


def plain_splink(db: Database) -> float:
    """A plain configuration: library comparisons on the raw columns, blocked on name+birth and ID."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t0 = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="uid",
        comparisons=[cl.ExactMatch("name"), cl.DateOfBirthComparison("birth_date", input_is_string=False),
                     cl.ExactMatch("sex"), cl.ExactMatch("village_code"), cl.ExactMatch("phone"),
                     cl.LevenshteinAtThresholds("id", [1, 2])],
        blocking_rules_to_generate_predictions=[block_on("name", "birth_date"), block_on("id")],
    )  # fmt: skip
    api = DuckDBAPI(connection=db.con.cursor())
    linker = Linker(api.register("plain_in"), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match([block_on("id")], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name", "birth_date"))
    pred = linker.inference.predict(threshold_match_probability=0.9)
    cl_df = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.99)
    db.execute(f"CREATE OR REPLACE TABLE plain_clusters AS SELECT uid, cluster_id FROM {cl_df.physical_name}")
    return time.perf_counter() - t0


def run(n: int) -> None:
    data = generate(n)
    db = Database(None, threads=2)
    load(db, data)
    build_input(db)
    db.execute(PLAIN_INPUT)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = LinkageConfig(model_path=Path(tmp) / "model.json")
        t0 = time.perf_counter()
        s = run_linkage(db, cfg)
        secs = time.perf_counter() - t0
        t1 = time.perf_counter()
        s2 = run_linkage(db, cfg)  # reuse the saved model (the steady state)
        secs2 = time.perf_counter() - t1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p, r = evaluate(db, "hub_link_clusters", "cluster_key")
    print(f"persons={n:,} records={s.records:,} cores={os.cpu_count()} truth-pairs evaluated on all records")
    print(f"  hub linkage (train+run)  precision={p:.5f} recall={r:.5f} time={secs:.1f}s rerun(model reused)="
          f"{secs2:.1f}s peak_rss={rss:,.0f}MB")  # fmt: skip
    wrong = db.scalar("SELECT count(*) FROM hub_link_fills f JOIN bench_truth b USING (submission_id, sheet, row_no) "
                      "WHERE f.id_number <> b.true_id")  # fmt: skip
    print(f"  misused={s.misused} filled={s.fill.filled} (wrong ID: {wrong}) candidates={s.fill.with_candidates} "
          f"none={s.fill.without_candidates} review={s.review} clusters={s.clusters:,} codes={s.codes} rerun_codes={s2.codes}")  # fmt: skip
    secs = plain_splink(db)
    p, r = evaluate(db, "plain_clusters", "cluster_id")
    print(f"  plain Splink             precision={p:.5f} recall={r:.5f} time={secs:.1f}s")


def main(argv: list[str]) -> None:
    for n in [int(a) for a in argv] or [100_000]:
        run(n)


if __name__ == "__main__":
    main(sys.argv[1:])

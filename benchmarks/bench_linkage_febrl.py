"""FEBRL4 (5,000 × 5,000, 5,000 true links) linked WITHOUT soc_sec_id: the hub's linkage engine beside
a plain Splink configuration and recordlinkage's ECM classifier, in the same run. Offline (FEBRL4 ships
inside recordlinkage). Run: ``.venv/bin/python benchmarks/bench_linkage_febrl.py``; results on stdout.
"""

from __future__ import annotations

import os
import time
from typing import Any

from hub.dedupe.linkage.engine import LinkSpec, predict, train
from hub.store.db import Database

THRESHOLD = 0.5


def _lv(sql: str, label: str, null: bool = False) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **({"is_null_level": True} if null else {})}


def _name(col: str, other: str) -> dict[str, Any]:
    return {"output_column_name": col, "comparison_levels": [
        _lv(f"{col}_l IS NULL OR {col}_r IS NULL", "null", True),
        _lv(f"{col}_l = {col}_r", "exact"),
        _lv(f"levenshtein({col}_l, {col}_r) <= 1", "one edit"),
        _lv(f"jaro_winkler_similarity({col}_l, {col}_r) >= 0.9", "jw 0.9"),
        _lv(f"{col}_l = {other}_r OR {col}_r = {other}_l", "swapped with " + other),
        _lv(f"jaro_winkler_similarity({col}_l, {col}_r) >= 0.8", "jw 0.8"),
        _lv("ELSE", "else")]}  # fmt: skip


def _text(col: str) -> dict[str, Any]:
    return {"output_column_name": col, "comparison_levels": [
        _lv(f"{col}_l IS NULL OR {col}_r IS NULL", "null", True),
        _lv(f"{col}_l = {col}_r", "exact"),
        _lv(f"levenshtein({col}_l, {col}_r) <= 1", "one edit"),
        _lv(f"jaro_winkler_similarity({col}_l, {col}_r) >= 0.88", "jw 0.88"),
        _lv("ELSE", "else")]}  # fmt: skip


DOB = {"output_column_name": "date_of_birth", "comparison_levels": [
    _lv("date_of_birth_l IS NULL OR date_of_birth_r IS NULL", "null", True),
    _lv("date_of_birth_l = date_of_birth_r", "exact"),
    _lv("left(date_of_birth_l, 4) = left(date_of_birth_r, 4) AND substr(date_of_birth_l, 5, 2) = "
        "substr(date_of_birth_r, 7, 2) AND substr(date_of_birth_l, 7, 2) = substr(date_of_birth_r, 5, 2)", "day-month swapped"),
    _lv("damerau_levenshtein(date_of_birth_l, date_of_birth_r) <= 1", "one digit"),
    _lv("left(date_of_birth_l, 6) = left(date_of_birth_r, 6)", "same month"),
    _lv("ELSE", "else")]}  # fmt: skip

FEBRL_SPEC = LinkSpec(
    comparisons=[_name("given_name", "surname"), _name("surname", "given_name"), DOB, _text("street_number"),
                 _text("address_1"), _text("suburb"), _text("postcode"), _text("state")],
    blocking_rules=["l.given_name = r.given_name", "l.surname = r.surname", "l.date_of_birth = r.date_of_birth",
                    "l.postcode = r.postcode"],
    em_rules=["l.date_of_birth = r.date_of_birth", "l.postcode = r.postcode"],
    prior_rules=["l.given_name = r.given_name AND l.surname = r.surname"],
    prior_recall=0.7,
    link_type="link_only",
    unique_id="rec_id",
    u_max_pairs=3e5,
    em_sample=0.2,
)  # fmt: skip


def _score(pairs: set[tuple[str, str]]) -> tuple[float, float, float]:
    tp = sum(1 for a, b in pairs if a.split("-")[1] == b.split("-")[1])
    p = tp / len(pairs) if pairs else 0.0
    r = tp / 5000
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def _norm(pairs: Any) -> set[tuple[str, str]]:
    return {(a, b) if "org" in a else (b, a) for a, b in pairs}


def run_hub(a: Any, b: Any) -> tuple[set[tuple[str, str]], float]:
    db = Database(None)
    t0 = time.perf_counter()
    db.register("fa", a)
    db.register("fb", b)
    db.execute("CREATE TABLE febrl_a AS SELECT * EXCLUDE (soc_sec_id) FROM fa")
    db.execute("CREATE TABLE febrl_b AS SELECT * EXCLUDE (soc_sec_id) FROM fb")
    model = train(db, ["febrl_a", "febrl_b"], FEBRL_SPEC)
    predict(db, ["febrl_a", "febrl_b"], model, "febrl_pairs", THRESHOLD)
    rows = db.rows("SELECT uid_l, uid_r FROM febrl_pairs")
    return _norm(rows), time.perf_counter() - t0


def run_plain_splink(a: Any, b: Any) -> tuple[set[tuple[str, str]], float]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t0 = time.perf_counter()
    api = DuckDBAPI()
    settings = SettingsCreator(
        link_type="link_only", unique_id_column_name="rec_id",
        comparisons=[cl.NameComparison("given_name"), cl.NameComparison("surname"),
                     cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                     cl.ExactMatch("street_number"), cl.LevenshteinAtThresholds("address_1", [1, 2]),
                     cl.ExactMatch("postcode"), cl.LevenshteinAtThresholds("suburb", [1, 2]), cl.ExactMatch("state")],
        blocking_rules_to_generate_predictions=[block_on("given_name"), block_on("surname"),
                                                block_on("date_of_birth"), block_on("postcode")],
    )  # fmt: skip
    aa, bb = a.drop(columns=["soc_sec_id"]), b.drop(columns=["soc_sec_id"])
    linker = Linker([api.register(aa), api.register(bb)], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    df = linker.inference.predict(threshold_match_probability=THRESHOLD).as_pandas_dataframe()
    return _norm(zip(df.rec_id_l, df.rec_id_r, strict=True)), time.perf_counter() - t0


def run_ecm(a: Any, b: Any) -> tuple[set[tuple[str, str]], float]:
    import recordlinkage

    t0 = time.perf_counter()
    a, b = a.set_index("rec_id"), b.set_index("rec_id")
    idx = recordlinkage.Index()
    for col in ("given_name", "surname", "date_of_birth", "postcode"):
        idx.block(col)
    links = idx.index(a, b)
    cmp = recordlinkage.Compare()
    for col in ("given_name", "surname", "address_1", "suburb"):
        cmp.string(col, col, method="jarowinkler", threshold=0.85, label=col)
    for col in ("date_of_birth", "street_number", "postcode", "state"):
        cmp.exact(col, col, label=col)
    features = cmp.compute(links, a, b)
    ecm = recordlinkage.ECMClassifier(binarize=None)
    found = ecm.fit_predict(features)
    return _norm(found.to_list()), time.perf_counter() - t0


def main() -> None:
    import recordlinkage.datasets as rd

    a, b = (df.reset_index() for df in rd.load_febrl4())
    print(f"FEBRL4 5000 x 5000, 5000 true links, soc_sec_id removed; cores={os.cpu_count()}")
    print(f"{'system':<28}{'precision':>10}{'recall':>10}{'F1':>10}{'time s':>9}{'pairs':>8}")
    for label, fn in (("hub engine (Splink+DuckDB)", run_hub), ("plain Splink", run_plain_splink),
                      ("recordlinkage ECM", run_ecm)):  # fmt: skip
        pairs, secs = fn(a, b)
        p, r, f = _score(pairs)
        print(f"{label:<28}{p:>10.4f}{r:>10.4f}{f:>10.4f}{secs:>9.2f}{len(pairs):>8}")


if __name__ == "__main__":
    main()

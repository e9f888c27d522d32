"""The linkage stage end to end on generated Chinese ledgers with ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.gen_chinese_linkage import generate, load
from hub.dedupe.linkage import LinkageConfig, decide, detect_id_misuse, explain, pending_pairs, run_linkage
from hub.errors import HubError
from hub.store.db import Database

N = 3000


def _reversed(data: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The same files submitted in the opposite order (new submission ids, rows in reverse)."""
    top = len(data["hub_submissions"]) + 1
    out = {k: [dict(r) for r in reversed(v)] for k, v in data.items()}
    for rows in out.values():
        for r in rows:
            r["submission_id"] = top - r["submission_id"]
    return out


def _state(db: Database) -> dict[str, Any]:
    return {
        "clusters": db.rows("SELECT uid, cluster_key, person_code FROM hub_link_clusters ORDER BY uid"),
        "rows": db.rows(
            "SELECT submission_id, sheet, row_no, accepted, id_number FROM hub_rows ORDER BY ALL"
        ),
        "findings": db.rows(
            "SELECT submission_id, sheet, row_no, code, severity, message FROM hub_findings ORDER BY ALL"
        ),
        "codes": db.rows("SELECT natural_key, code, redirect_to FROM hub_codes ORDER BY ALL"),
    }


# its module fixture is built once: every test of the file on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("linkage_pipeline")


@pytest.fixture(scope="session")  # not module: xdist interleaves modules on a worker, which rebuilt it
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, LinkageConfig, Any, Any]:
    data = generate(N, seed=3)
    db = Database(None)
    load(db, data)
    cfg = LinkageConfig(model_path=Path(tmp_path_factory.mktemp("m")) / "model.json")
    first = run_linkage(db, cfg)
    return db, cfg, first, data


def test_model_trained_saved_and_reused(linked: Any) -> None:
    db, cfg, first, _ = linked
    assert first.trained and cfg.model_path.exists()


def test_quality_against_truth(linked: Any) -> None:
    db, *_ = linked
    pred, true, both = db.rows(
        """WITH t AS (SELECT c.cluster_key AS k, b.person FROM hub_link_clusters c
                      JOIN bench_truth b USING (submission_id, sheet, row_no))
           SELECT (SELECT sum(n*(n-1)/2) FROM (SELECT count(*) n FROM t GROUP BY k)),
                  (SELECT sum(n*(n-1)/2) FROM (SELECT count(*) n FROM t GROUP BY person)),
                  (SELECT sum(n*(n-1)/2) FROM (SELECT count(*) n FROM t GROUP BY k, person))"""
    )[0]
    assert both / pred >= 0.99 and both / true >= 0.95


def test_misuse_flags_copied_ids(linked: Any) -> None:
    db, *_ = linked
    flagged, copied, hit = db.rows(
        """WITH c AS (SELECT r.submission_id, r.sheet, r.row_no FROM hub_rows r JOIN bench_truth b
                      USING (submission_id, sheet, row_no) WHERE r.id_number <> b.true_id),
           f AS (SELECT submission_id, sheet, row_no FROM hub_link_misuse)
           SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM c), (SELECT count(*) FROM f JOIN c USING (submission_id, sheet, row_no))"""
    )[0]
    assert copied > 10 and hit / flagged >= 0.95 and hit / copied >= 0.8
    assert db.scalar(
        "SELECT bool_and(NOT accepted) FROM hub_rows JOIN hub_link_misuse USING (submission_id, sheet, row_no)"
    )
    assert db.scalar("SELECT count(*) FROM hub_findings WHERE code = 'id-misused'") == flagged
    assert all(
        set(d) == {"submission_id", "sheet", "row_no", "id_number", "reason"} for d in detect_id_misuse(db)
    )


def test_filled_rows_get_their_true_id(linked: Any) -> None:
    db, _, first, _ = linked
    assert first.fill.filled > 20
    wrong = db.scalar("SELECT count(*) FROM hub_link_fills f JOIN bench_truth b USING (submission_id, sheet, row_no) "
                      "WHERE f.id_number <> b.true_id")  # fmt: skip
    assert wrong == 0
    assert (
        db.scalar("SELECT count(*) FROM hub_findings WHERE code = 'id-filled-by-match'") == first.fill.filled
    )
    assert db.scalar(
        "SELECT bool_and(accepted) FROM hub_rows JOIN hub_link_fills USING (submission_id, sheet, row_no)"
    )


def test_idempotent(linked: Any) -> None:
    db, cfg, *_ = linked
    before = _state(db)
    again = run_linkage(db, cfg)
    assert again.codes == {"created": 0, "redirected": 0, "restored": 0} and not again.trained
    assert _state(db) == before


def test_file_order_independent(linked: Any) -> None:
    db, cfg, _, data = linked
    other = Database(None)
    load(other, _reversed(data))
    run_linkage(other, cfg)  # same saved model
    q = """SELECT b.file_name, c.sheet, c.row_no, c.cluster_key, c.person_code FROM hub_link_clusters c
           JOIN hub_submissions b USING (submission_id) ORDER BY ALL"""
    assert db.rows(q) == other.rows(q)


def test_review_decisions_are_reused(linked: Any) -> None:
    db, cfg, *_ = linked
    pending = pending_pairs(db)
    if not pending:
        pytest.skip("no pair between the thresholds in this sample")
    pair = pending[0]
    assert pair["left"] and pair["right"] and pair["drivers"]
    decide(db, pair["pair_id"], "reject", "steward")
    run_linkage(db, cfg)
    assert pair["pair_id"] not in {p["pair_id"] for p in pending_pairs(db)}
    with pytest.raises(HubError):
        decide(db, pair["pair_id"], "maybe", "steward")


def test_hard_rule_refuses_accepting_two_valid_ids(linked: Any) -> None:
    db, *_ = linked
    blocked = db.scalar("SELECT pair_id FROM hub_link_pairs WHERE status = 'blocked' LIMIT 1")
    if blocked is None:
        pytest.skip("no blocked pair in this sample")
    with pytest.raises(HubError):
        decide(db, blocked, "accept", "steward")


def test_explain(linked: Any) -> None:
    db, *_ = linked
    code = db.scalar(
        "SELECT person_code FROM hub_link_clusters GROUP BY 1 HAVING count(*) > 2 ORDER BY 1 LIMIT 1"
    )
    info = explain(db, code)
    assert info["code"] == code and len(info["records"]) > 2
    with pytest.raises(HubError):
        explain(db, "P999999999")


def test_each_pair_names_the_level_each_comparison_reached(linked: Any) -> None:
    """The level is stored with the pair (Splink's gamma), not inferred from the weight: two levels
    can carry the same weight, and a real level of weight 0 is not 不计分."""
    import json

    from hub.dedupe.linkage.review import NOT_COUNTED, _drivers

    db, *_ = linked
    pairs = db.dicts("SELECT gammas, levels FROM hub_link_pairs")
    assert pairs
    labels = {(c, g): lab for c, g, lab in db.rows("SELECT comparison, gamma, label FROM hub_link_levels")}
    for pair in pairs:
        weights, reached = json.loads(pair["gammas"]), json.loads(pair["levels"])
        assert set(weights) == set(reached)
        shown = {d["field"]: d["level"] for d in _drivers(_levels(db), pair["gammas"], pair["levels"])}
        for comp, gamma in reached.items():
            assert shown[comp] == (NOT_COUNTED if gamma < 0 else labels[(comp, gamma)])
    # a level whose weight happens to be 0 keeps its name; the empty side is 不计分
    levels = {"name": {0: ("不同", -3.0), 1: ("同音", 0.0), 2: ("相同", 5.0)}}
    assert _drivers(levels, {"name": 0.0}, {"name": 1})[0]["level"] == "同音"
    assert _drivers(levels, {"name": 0.0}, {"name": -1})[0]["level"] == NOT_COUNTED
    assert _drivers(levels, {"name": 5.0}, None)[0]["level"] == "相同"  # a pair scored before DDL 62


def _levels(db: Database) -> dict[str, dict[int, tuple[str, float]]]:
    out: dict[str, dict[int, tuple[str, float]]] = {}
    for comp, gamma, label, weight in db.rows("SELECT comparison, gamma, label, weight FROM hub_link_levels"):
        out.setdefault(comp, {})[int(gamma)] = (label, weight)
    return out


def test_the_stored_levels_are_the_ones_splink_computes(linked: Any) -> None:
    """The level of each comparison, evaluated on the kept pairs in the store, equals Splink's own
    gamma for the same pair (its matching columns kept, as the hub does not at scale)."""
    import json

    from hub.dedupe.linkage.engine import _linker

    db, cfg, *_ = linked
    model = json.loads(cfg.model_path.read_text(encoding="utf-8"))
    settings = {**model, "retain_matching_columns": True, "retain_intermediate_calculation_columns": True}
    scored = _linker(db, ["hub_link_input"], settings, validate=False).inference.predict(
        threshold_match_probability=cfg.lower
    )
    gammas = [c for c, _ in db.columns(scored.physical_name) if c.startswith("gamma_")]
    theirs = {
        (min(row[0], row[1]), max(row[0], row[1])): dict(zip((g[6:] for g in gammas), row[2:], strict=True))
        for row in db.rows(f"SELECT uid_l, uid_r, {', '.join(gammas)} FROM {scored.physical_name}")
    }
    ours = {
        (r[0], r[1]): json.loads(r[2]) for r in db.rows("SELECT uid_l, uid_r, levels FROM hub_link_pairs")
    }
    both = set(ours) & set(theirs)
    assert len(both) >= 0.9 * len(ours) and both
    for pair in both:
        assert ours[pair] == theirs[pair], pair
    scored.drop_table_from_database_and_remove_from_cache()

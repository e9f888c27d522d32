"""Issue 12: an upload is linked against the store without scoring the store again
(:func:`hub.dedupe.linkage.incremental.link_delta`), and ends exactly as the full linkage ends.

The oracle replays the same history (the same submissions arriving in the same batches, a withdrawal)
with the full run after every step; every linkage table must then be equal, step by step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.gen_chinese_linkage import generate, load
from hub.dedupe.linkage import LinkageConfig, decide, run_linkage
from hub.dedupe.linkage.incremental import apply_decisions, link_delta, record_state
from hub.store.db import Database

pytestmark = pytest.mark.xdist_group("link_delta")

TABLES = {
    "hub_link_pairs": "* EXCLUDE (scored_at)",
    "hub_link_clusters": "*",
    "hub_codes": "entity, natural_key, code, redirect_to",
    "hub_rows": "submission_id, sheet, row_no, accepted, id_number, id_type",
    "hub_findings": "*",
    "hub_link_misuse": "* EXCLUDE (flagged_at)",
    "hub_link_fills": "* EXCLUDE (filled_at)",
}


def _part(data: dict[str, list[dict[str, Any]]], sids: set[int]) -> dict[str, list[dict[str, Any]]]:
    part = {k: [r for r in v if r["submission_id"] in sids] for k, v in data.items() if k != "truth"}
    return {k: v for k, v in part.items() if v}


def _tables(db: Database) -> dict[str, list[Any]]:
    return {t: sorted(map(tuple, db.rows(f"SELECT {c} FROM {t}")), key=repr) for t, c in TABLES.items()}


def _pair_to_decide(db: Database) -> str | None:
    """A scored pair no steward decided (review pairs first, then one with a record without a valid ID,
    whose decision may fill or unfill it); None when there is none."""
    found = db.rows(
        "SELECT p.pair_id FROM hub_link_pairs p JOIN hub_link_input l ON l.uid = p.uid_l "
        "JOIN hub_link_input r ON r.uid = p.uid_r WHERE p.status <> 'blocked' "
        "AND p.pair_id NOT IN (SELECT pair_id FROM hub_link_decisions) "
        "ORDER BY p.status <> 'review', l.id_valid IS NOT NULL AND r.id_valid IS NOT NULL, p.pair_id LIMIT 1"
    )
    return str(found[0][0]) if found else None


def _withdraw(db: Database, sid: int) -> None:
    for table in ("hub_findings", "hub_rows", "hub_columns", "hub_submissions"):
        db.execute(f"DELETE FROM {table} WHERE submission_id = ?", [sid])


@pytest.mark.parametrize("seed", [3, pytest.param(17, marks=pytest.mark.slow)])
def test_uploads_linked_against_the_store_equal_the_full_linkage(tmp_path: Path, seed: int) -> None:
    data = generate(600, seed=seed)
    sids = sorted(s["submission_id"] for s in data["hub_submissions"])
    first, rest = set(sids[: len(sids) // 2]), sids[len(sids) // 2 :]
    cfg = LinkageConfig(model_path=tmp_path / "model.json")
    inc, full = Database(None), Database(None)
    for db in (inc, full):
        load(db, _part(data, first))
        summary = run_linkage(db, cfg)  # the first load: the model is trained (inc) and reused (full)
        record_state(db, summary.plain)
    assert summary.plain, "the first run must leave a store an upload can be linked against"
    assert _tables(inc) == _tables(full)
    codes_first = inc.rows("SELECT count(*) FROM hub_codes")[0][0]

    steps: list[tuple[str, Any]] = [("upload", set(rest[i : i + 2])) for i in range(0, len(rest), 2)]
    steps.insert(2, ("withdraw", sids[0]))
    incremental = filled = 0
    for what, arg in steps:
        for db in (inc, full):
            if what == "upload":
                load(db, _part(data, arg))
            else:
                _withdraw(db, arg)
        done = link_delta(inc, cfg)
        assert done is not None, f"{what} {arg}: fell back to the full run"
        incremental += done.incremental
        filled += done.fill.filled + done.fill.with_candidates
        record_state(inc, done.plain)
        oracle = run_linkage(full, cfg)
        record_state(full, oracle.plain)
        mine, theirs = _tables(inc), _tables(full)
        for table in TABLES:
            assert mine[table] == theirs[table], f"after {what} {arg}: {table} differs from the full linkage"
        assert (done.pairs, done.review) == (oracle.pairs, oracle.review)  # clusters: hub_link_clusters above
    assert incremental == len(steps)
    # the steps filled rows by a match, flagged misused IDs and merged new persons: the comparison
    # was not of empty changes
    assert filled, "no step filled a rejected row"
    assert inc.scalar("SELECT count(*) FROM hub_link_misuse") > 0
    assert inc.scalar("SELECT count(*) FROM hub_codes") > codes_first


def test_decisions_applied_to_their_pairs_equal_the_full_linkage(tmp_path: Path) -> None:
    """A steward's decisions, one after another, each applied to the decided pair's records alone
    (:func:`apply_decisions`: clusters, codes, fills and candidates of those records), end as the full
    linkage ends after the same decisions; rejecting an automatic merge splits a person, accepting it
    again joins them."""
    data = generate(1200, seed=3)
    cfg = LinkageConfig(model_path=tmp_path / "model.json")
    inc, full = Database(None), Database(None)
    for db in (inc, full):
        load(db, data)
        record_state(db, run_linkage(db, cfg).plain)
    pairs = [
        str(r[0]) for r in inc.rows("SELECT pair_id FROM hub_link_pairs WHERE status <> 'blocked' ORDER BY 1")
    ]
    assert len(pairs) >= 2, "the data must leave pairs to decide"
    persons = inc.scalar("SELECT count(DISTINCT person_code) FROM hub_link_clusters")
    steps = [(pairs[0], "reject"), (pairs[1], "reject"), (pairs[0], "accept")]
    for pair, decision in steps:
        for db in (inc, full):
            decide(db, pair, decision, "审核员")
        assert apply_decisions(inc, cfg), f"{decision} {pair}: not applied on its own"
        record_state(full, run_linkage(full, cfg).plain)
        mine, theirs = _tables(inc), _tables(full)
        for table in TABLES:
            assert mine[table] == theirs[table], (
                f"after {decision} {pair}: {table} differs from the full linkage"
            )
        if (pair, decision) == steps[1]:  # automatic merges undone: a person split
            assert inc.scalar("SELECT count(DISTINCT person_code) FROM hub_link_clusters") > persons


def test_a_store_not_left_plain_is_linked_in_full(tmp_path: Path) -> None:
    data = generate(300, seed=5)
    db = Database(None)
    load(db, data)
    cfg = LinkageConfig(model_path=tmp_path / "model.json")
    assert link_delta(db, cfg) is None  # never linked: nothing to link against
    summary = run_linkage(db, cfg)
    record_state(db, summary.plain)
    db.execute("UPDATE hub_link_state SET plain = false")  # as a run killed half-way leaves it
    assert link_delta(db, cfg) is None


def test_an_upload_of_identical_rows_is_linked_in_full(tmp_path: Path) -> None:
    """A file of one row repeated (issue 11's hostile upload) is decided by grouping, and the full run,
    which collapses the copies, takes over."""
    data = generate(300, seed=5)
    db = Database(None)
    load(db, data)
    cfg = LinkageConfig(model_path=tmp_path / "model.json", max_identical=5)
    record_state(db, run_linkage(db, cfg).plain)
    sub = max(s["submission_id"] for s in data["hub_submissions"]) + 1
    db.execute(
        "INSERT INTO hub_submissions (submission_id, file_name, sha256, township_code, kind, submitted_at, "
        "submitted_by, rows, accepted, rejected, errors, warnings) "
        "SELECT ?, 'dup.xlsx', 'dup', township_code, kind, submitted_at, 'clerk', 30, 30, 0, 0, 0 "
        "FROM hub_submissions WHERE submission_id = 1",
        [sub],
    )
    db.execute(
        "INSERT INTO hub_rows SELECT r.* REPLACE (? AS submission_id, r.row_no + g.i AS row_no) "
        "FROM (SELECT * FROM hub_rows WHERE submission_id = 1 AND accepted ORDER BY row_no LIMIT 1) r, "
        "range(30) g(i)",
        [sub],
    )
    assert link_delta(db, cfg) is None
    full = run_linkage(db, cfg)
    assert not full.plain  # the copies are collapsed: the next upload is linked in full too

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
    "hub_link_twins": "*",
}


def _part(data: dict[str, list[dict[str, Any]]], sids: set[int]) -> dict[str, list[dict[str, Any]]]:
    part = {k: [r for r in v if r["submission_id"] in sids] for k, v in data.items() if k != "truth"}
    return {k: v for k, v in part.items() if v}


def _tables(db: Database) -> dict[str, list[Any]]:
    return {t: sorted(map(tuple, db.rows(f"SELECT {c} FROM {t}")), key=repr) for t, c in TABLES.items()}


def _same_as_full(inc: Database, full: Database, cfg: LinkageConfig, step: str, done: Any = None) -> None:
    """The full linkage on ``full`` (the same history: the oracle), then every linkage table of ``inc``
    compared with it; ``done``: the incremental run's summary, whose counts must agree too."""
    oracle = run_linkage(full, cfg)
    record_state(full, oracle.plain)
    mine, theirs = _tables(inc), _tables(full)
    for table in TABLES:
        assert mine[table] == theirs[table], f"after {step}: {table} differs from the full linkage"
    if done is not None:  # clusters: compared in the tables above
        assert (done.pairs, done.review) == (oracle.pairs, oracle.review)


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
        _same_as_full(inc, full, cfg, f"{what} {arg}", done)
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
        _same_as_full(inc, full, cfg, f"{decision} {pair}")
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
    # the copies are collapsed (of the row and its 30 copies, 5 are compared) and kept, so the next
    # upload is linked against them (the test below)
    assert full.plain and db.rows("SELECT count(*) FROM hub_link_twins")[0][0] >= 26


def _copies(db: Database, sub: int, of: int, n: int, phone: str | None = None) -> None:
    """Submission ``sub``: ``n`` rows of submission ``of`` (as a new file): its first accepted row
    ``n`` times (a file of one repeated row), or, with ``phone``, its first ``n`` accepted rows, every
    one with that phone number (one oversized phone block)."""
    db.execute(
        "INSERT INTO hub_submissions (submission_id, file_name, sha256, township_code, kind, submitted_at, "
        "submitted_by, rows, accepted, rejected, errors, warnings) "
        "SELECT ?, 'copies.xlsx', 'copies' || ?, township_code, kind, submitted_at, 'clerk', ?, ?, 0, 0, 0 "
        "FROM hub_submissions WHERE submission_id = ?",
        [sub, sub, n, n, of],
    )
    if phone is None:
        db.execute(
            "INSERT INTO hub_rows SELECT r.* REPLACE (? AS submission_id, r.row_no + g.i AS row_no) "
            "FROM (SELECT * FROM hub_rows WHERE submission_id = ? AND accepted ORDER BY row_no LIMIT 1) r, "
            "range(?) g(i)",
            [sub, of, n],
        )
    else:
        db.execute(
            "INSERT INTO hub_rows SELECT r.* REPLACE (? AS submission_id, ? AS phone) "
            "FROM (SELECT * FROM hub_rows WHERE submission_id = ? AND accepted ORDER BY row_no LIMIT ?) r",
            [sub, phone, of, n],
        )


@pytest.mark.slow  # about 40 s: eight steps, each checked against a full run
def test_uploads_after_a_file_of_copies_and_an_oversized_block_stay_incremental(tmp_path: Path) -> None:
    """Issue 11: after a file of one repeated row (collapsed by the guard) and a file that makes one
    phone block too large to compare pairwise, ordinary uploads are still linked against the store,
    and every linkage table (the collapsed records too) ends as the full linkage leaves it. The two
    files themselves, and the withdrawal of the copies, change what the guard decides: those steps
    take the full run."""
    data = generate(500, seed=11)
    sids = sorted(s["submission_id"] for s in data["hub_submissions"])
    first, rest = set(sids[: len(sids) // 2]), sids[len(sids) // 2 :]
    cfg = LinkageConfig(model_path=tmp_path / "model.json", max_identical=5, max_block=20)
    inc, full = Database(None), Database(None)
    for db in (inc, full):
        load(db, _part(data, first))
        record_state(db, run_linkage(db, cfg).plain)
    copies, block = max(sids) + 1, max(sids) + 2
    source = min(first)
    batches = [set(rest[i : i + 4]) for i in range(0, len(rest), 4)]
    steps: list[tuple[str, Any]] = [
        ("upload", batches[0]),
        ("copies", copies),
        ("upload", batches[1]),
        ("decide", "reject"),  # a steward's decision on a store with collapsed copies
        ("block", block),
        *(("upload", b) for b in batches[2:-1]),
        ("withdraw", sids[1]),
        ("withdraw", copies),
        ("upload", batches[-1]),
    ]
    took_full = []
    for what, arg in steps:
        for db in (inc, full):
            if what == "upload":
                load(db, _part(data, arg))
            elif what == "withdraw":
                _withdraw(db, arg)
            elif what == "decide":
                db.execute(
                    "INSERT INTO hub_link_decisions SELECT pair_id, uid_l, uid_r, ?, 'steward', now(), "
                    "match_probability FROM hub_link_pairs WHERE status = 'auto' ORDER BY pair_id LIMIT 1",
                    [arg],
                )
            elif what == "copies":
                _copies(db, arg, source, 30)
            else:
                _copies(db, arg, source, 25, phone="13900001111")
        if what == "decide":
            assert inc.rows("SELECT count(*) FROM hub_link_decisions") == [(1,)]
            assert apply_decisions(inc, cfg), "the decision was not applied without re-scoring"
            _same_as_full(inc, full, cfg, "the decision")
            continue
        done = link_delta(inc, cfg)
        if done is None:
            took_full.append(what if what != "withdraw" else f"withdraw {arg}")
            done = run_linkage(inc, cfg)
        record_state(inc, done.plain)
        _same_as_full(inc, full, cfg, f"{what} {arg}", done)
        if what == "copies":
            # of the row and its 30 copies, 5 are compared
            assert inc.rows("SELECT count(*) FROM hub_link_twins")[0][0] >= 26
        if what == "block":
            assert inc.rows("SELECT guarded FROM hub_link_guard") == [(["l.phone1 = r.phone1"],)]
    # only the steps that change what the guard decides took the full run
    assert took_full == ["copies", "block", f"withdraw {copies}"]
    assert inc.rows("SELECT count(*) FROM hub_link_twins") == [(0,)]  # the copies withdrawn

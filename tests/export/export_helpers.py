"""Helpers for the export tests: an in-memory store filled from golden YAML inputs, output readers."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from hub.store.db import Database

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


BULK = 50  # a run of rows at least this long goes in as one Arrow INSERT instead of one per row


def _one_type_per_column(rows: list[dict[str, Any]]) -> bool:
    """Arrow would coerce a column mixing Python types (1 and 2.5 become doubles): such rows go in one
    by one, each value bound as itself."""
    for key in rows[0]:
        kinds = {type(r[key]) for r in rows if r[key] is not None}
        if len(kinds) > 1 or kinds & {list, dict, tuple}:
            return False
    return True


def load_rows(db: Database, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Insert canonical rows (missing columns are NULL; hub_person.alive defaults to true), in order.
    A long run of rows with the same columns is inserted at once (thousands of single-row INSERTs
    are most of a test's time otherwise); the values stored are the same."""
    import pyarrow as pa

    for table, rows in tables.items():
        cols = [c for c, _ in db.columns(table)]
        prepared = [{"alive": True, **row} if table == "hub_person" else row for row in rows]
        for row in prepared:
            unknown = set(row) - set(cols)
            assert not unknown, f"{table}: unknown columns {unknown}"
        start = 0
        while start < len(prepared):
            keys = list(prepared[start])
            end = start + 1
            while end < len(prepared) and list(prepared[end]) == keys:
                end += 1
            run = prepared[start:end]
            if len(run) >= BULK and _one_type_per_column(run):
                db.register("__load_rows", pa.Table.from_pylist(run))
                db.execute(
                    f"INSERT INTO {table} ({', '.join(keys)}) SELECT {', '.join(keys)} FROM __load_rows"
                )
                db.unregister("__load_rows")
            else:
                for row in run:
                    db.execute(
                        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                        list(row.values()),
                    )
            start = end


def golden_db(folder: Path) -> tuple[Database, dict[str, Any]]:
    db = Database(None)
    shared = yaml.safe_load((GOLDEN / "divisions.yaml").read_text(encoding="utf-8"))
    load_rows(db, shared)
    case = yaml.safe_load((folder / "input.yaml").read_text(encoding="utf-8"))
    load_rows(db, case["tables"])
    return db, case


def _cell(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    return v


def read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {
        ws.title: [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets
    }


def read_csv(path: Path, encoding: str = "gbk") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.reader(fh))


def run_golden_case(name: str, out: Path, engine: Any = None) -> dict[str, Any]:
    """A golden case's reports, written by ``hub.export.export_reports`` with the report queries on
    ``engine`` (None: the store itself, DuckDB) and read back cell by cell as a department would."""
    from hub.export import export_reports

    db, case = golden_db(GOLDEN / name)
    try:
        if engine is not None:
            engine.attach(db)
        results = export_reports(
            db,
            reports=[name],
            ref_date=dt.date.fromisoformat(case["ref_date"]),
            out_dir=out,
            **({"engine": engine} if engine is not None else {}),
        )
    finally:
        db.close()
    files: dict[str, Any] = {}
    for r in results:
        cells = read_csv(r.path) if r.path.suffix == ".csv" else read_xlsx(r.path)
        files[r.path.relative_to(out).as_posix()] = {
            "township": r.township,
            "township_name": r.township_name,
            "department": r.department,
            "records": r.records,
            "cells": r.cells,
            "problems": r.problems,
            "content": cells,
        }
    return files

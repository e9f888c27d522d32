"""Helpers for the export tests: an in-memory store filled from golden YAML inputs, output readers."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from hub.store.db import Database

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def load_rows(db: Database, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Insert canonical rows (missing columns are NULL; hub_person.alive defaults to true)."""
    for table, rows in tables.items():
        cols = [c for c, _ in db.columns(table)]
        for row in rows:
            if table == "hub_person":
                row = {"alive": True, **row}
            unknown = set(row) - set(cols)
            assert not unknown, f"{table}: unknown columns {unknown}"
            db.execute(
                f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )


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

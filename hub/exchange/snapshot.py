"""A report computed once per data version, township and report date (docs/exchange.md).

One run of the report's compiled SQL (:func:`hub.export.run.build`, its checks first) gives both
artifacts of a snapshot, each written once:

* the records (Parquet): per sheet, one row per record key with the record's rows as JSON, in the
  report's order, the 序号 and layout columns left out. The key of a list sheet is a pseudonym of
  the entity code (the ``records`` of the spec: a person, household or business) that is stable for
  the department and reveals nothing of the hub's codes; the key of a grouped sheet is its group
  (the village). The changes feed diffs two of these;
* the file the department downloads (xlsx / GBK CSV, the bytes ``hub export`` writes), kept under
  its SHA-256: the same data gives the same bytes and the same hash.

Pulls of a computed snapshot read files only; the store is not touched again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import ExportError, HubError
from hub.exchange import cache, versions
from hub.retention import make_private
from hub.sqltext import sql_literal

if TYPE_CHECKING:
    from hub.store.db import Database
    from hub.store.engine import QueryEngine

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


@dataclass(frozen=True)
class Snapshot:
    """A computed snapshot: where its records are, and what was computed (``meta``)."""

    records_path: Path
    meta: dict[str, Any]

    @property
    def cursor(self) -> str:
        return str(self.meta["cursor"])


def cursor_of(version: int, ref: dt.date, spec_text: str) -> str:
    """``<version>.<yyyymmdd>.<spec hash>``: which data, which report date, which spec."""
    return f"{version}.{ref:%Y%m%d}.{hashlib.sha256(spec_text.encode('utf-8')).hexdigest()[:10]}"


def folder(home: Path, report_id: str, township: str | None) -> Path:
    return cache.root(home) / "snapshots" / report_id / (township or "county")


def find(home: Path, report_id: str, township: str | None, cursor: str) -> Snapshot | None:
    """A stored snapshot by its cursor (None: unknown or expired)."""
    if not _valid_cursor(cursor):
        return None
    base = folder(home, report_id, township)
    meta = cache.read_meta(base / f"{cursor}.json")
    path = base / f"{cursor}.parquet"
    if meta is None or not path.exists():
        return None
    return Snapshot(path, meta)


def _valid_cursor(cursor: str) -> bool:
    parts = cursor.split(".")
    return (
        len(parts) == 3
        and parts[0].isdigit()
        and len(parts[1]) == 8
        and parts[1].isdigit()
        and len(parts[2]) == 10
        and all(c in "0123456789abcdef" for c in parts[2])
    )


def snapshot(
    db: Database,
    home: Path,
    report_id: str,
    township: str | None,
    ref: dt.date,
    *,
    with_file: bool,
    compute_lock: Any = None,
    engine: Callable[[], QueryEngine] | None = None,
) -> Snapshot:
    """The snapshot of the last version that changed ``township`` (the current one for the county);
    computed (under ``compute_lock``, the hub's lock of writing units, so never over a merge half
    done) when it is not stored yet, its report queries on ``engine()`` (asked for only then: a pull
    of a stored snapshot starts no engine; default the store itself)."""
    from hub.export.run import _spec_text

    text, _ = _spec_text(report_id)
    if _county(text):
        township = None
    found = _stored(
        home, report_id, township, cursor_of(versions.current_for(db, township), ref, text), with_file
    )
    if found is not None:
        return found
    with compute_lock if compute_lock is not None else contextlib.nullcontext():
        # again: a merge may have ended meanwhile
        cursor = cursor_of(versions.current_for(db, township), ref, text)
        base = folder(home, report_id, township)
        with cache.lock_for(base / cursor):
            found = _stored(home, report_id, township, cursor, with_file)
            if found is not None:
                return found
            return _compute(db, home, report_id, township, ref, cursor, with_file, engine)


def _county(spec_text: str) -> bool:
    """The spec's top-level ``scope: county`` (read without parsing the YAML: every pull asks)."""
    return re.search(r"(?m)^scope:[ \t]*['\"]?county\b", spec_text) is not None


def _stored(
    home: Path, report_id: str, township: str | None, cursor: str, with_file: bool
) -> Snapshot | None:
    found = find(home, report_id, township, cursor)
    if found is None or (with_file and found.meta.get("has_data") and "file" not in found.meta):
        return None
    return found


def _compute(
    db: Database,
    home: Path,
    report_id: str,
    township: str | None,
    ref: dt.date,
    cursor: str,
    with_file: bool,
    engine: Callable[[], QueryEngine] | None,
) -> Snapshot:
    from hub.export.document import write_document
    from hub.export.run import _divisions, build, compile_report, report_filename, townships_of

    where = engine() if engine is not None else None  # the report queries run there (HUB_ENGINE)
    compiled, _ = compile_report(db, report_id, ref)
    spec = compiled.spec
    if spec.scope != "county" and not township:
        raise HubError(f"报表 {spec.id} 按乡镇生成，请指定乡镇（9位代码或名称）。", code="township-required")
    town = None if spec.scope == "county" else township
    base = folder(home, report_id, town)
    base.mkdir(parents=True, exist_ok=True)
    old = cache.read_meta(base / f"{cursor}.json")
    names, _ = _divisions(db)
    has_data = town is None or town in townships_of(db, compiled, where)
    try:
        doc, records, problems = build(db, compiled, ref, town, engine=where)
    except ExportError as exc:  # a report's own check failed: no file and no snapshot of it
        raise HubError(
            f"{spec.id} {names.get(town or '', '全县')}：{exc.message}",
            code="report-refused",
            details=exc.details,
        ) from exc
    meta: dict[str, Any] = old or {
        "report": spec.id,
        "department": spec.department,
        "township": town,
        "date": ref.isoformat(),
        "version": int(cursor.split(".")[0]),
        "cursor": cursor,
        "records": records,
        "has_data": has_data,
        "problems": problems,
        "computed_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    try:
        records_path = base / f"{cursor}.parquet"
        if old is None:
            meta["totals"] = _write_records(db, home, doc, spec.department, records_path)
        if with_file and has_data and "file" not in meta:
            name = report_filename(spec, town, names.get(town or "", ""), ref)
            with tempfile.TemporaryDirectory(prefix="hub-snap-", dir=cache.root(home)) as tmp:
                path = Path(tmp) / name
                cells, model_cells = write_document(doc, path, spec.output.format)
                digest = _sha256_file(path)
                cache.put_blob(home, digest, path)
            meta["file"] = {
                "sha256": digest,
                "filename": name,
                "media_type": MEDIA.get(spec.output.format, "application/octet-stream"),
                "format": spec.output.format,
                "cells": cells,
                "model_cells": model_cells,
            }
    finally:
        doc.close()
    cache.write_meta(base / f"{cursor}.json", meta)
    if old is None:
        cache.prune(home)
    return Snapshot(records_path, meta)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_records(db: Database, home: Path, doc: Any, department: str, path: Path) -> dict[str, Any]:
    """Every sheet's records into one Parquet file (set-based, in the store's engine); returns the
    合计 row of each sheet (header → value)."""
    key_salt = sql_literal(f"{cache.secret(home)}|{department}|")
    parts, totals = [], {}
    for no, sd in enumerate(doc.sheets):
        cols = [c for c in sd.sheet.columns if not c.serial]
        heads = {c.key: "/".join(c.header) for c in sd.sheet.columns}
        types = sd.body.types
        values = ", ".join(
            f"{sql_literal(heads[c.key])}: "
            + (f"CAST({c.key} AS VARCHAR)" if types.get(c.key, "").startswith("DECIMAL") else c.key)
            for c in cols
        )
        rec = f"to_json(list({{{values}}} ORDER BY _row))"
        sheet = sql_literal(sd.sheet.name)
        if "_record" in types:  # a list sheet: one record per entity
            head = (
                f"SELECT {no} AS _sheet_no, {sheet} AS _sheet, "
                f"'K' || substr(sha256({key_salt} || CAST(_record AS VARCHAR)), 1, 20) AS _key, "
                "CAST(_record AS VARCHAR) AS _code, "
            )
            if db.scalar(f"SELECT count(*) = count(DISTINCT _record) FROM {sd.body.table}"):
                # each entity has one row (the usual): no aggregate. An ordered list aggregate over a
                # million groups cannot spill and outgrew the store's memory limit on a county's
                # report; a list of the one row is the same JSON.
                parts.append(f"{head}to_json([{{{values}}}]) AS rec, _row AS _ord FROM {sd.body.table}")
            else:
                parts.append(f"{head}{rec} AS rec, min(_row) AS _ord FROM {sd.body.table} GROUP BY _record")
        else:  # a grouped sheet: one record per group (its plain columns)
            plain = [c.key for c in cols if not _is_measure(c.expr)] or [c.key for c in cols]
            group = "concat_ws('|', " + ", ".join(f"coalesce(CAST({k} AS VARCHAR), '')" for k in plain) + ")"
            parts.append(
                f"SELECT {no} AS _sheet_no, {sheet} AS _sheet, {group} AS _key, "
                f"CAST(NULL AS VARCHAR) AS _code, {rec} AS rec, min(_row) AS _ord "
                f"FROM {sd.body.table} GROUP BY {group}"
            )
        if sd.total is not None and sd.sheet.total is not None:
            label = sd.sheet.total.label_column
            totals[sd.sheet.name] = {
                heads[k]: (sd.total["_label"] if k == label else _plain(sd.total.get(k))) for k in heads
            }
    tmp = path.with_name(f".{path.name}.tmp")
    db.execute(
        f"COPY ({' UNION ALL '.join(parts)} ORDER BY _sheet_no, _ord) TO {sql_literal(str(tmp))} (FORMAT parquet)"
    )
    make_private(tmp)
    tmp.replace(path)
    return totals


def _plain(value: Any) -> Any:
    """A 合计 cell as JSON gives it (Decimal and dates as text, the way the records carry them)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _is_measure(expr: str | None) -> bool:
    from sqlglot import exp, parse_one

    return expr is not None and parse_one(expr, read="duckdb").find(exp.AggFunc) is not None


def file_bytes(home: Path, snap: Snapshot) -> bytes:
    info = snap.meta.get("file")
    if not info:
        raise HubError("该乡镇、该报告期没有数据，未生成文件。", code="no-data")
    return cache.blob_path(home, info["sha256"]).read_bytes()


@contextlib.contextmanager
def records_db() -> Iterator[Database]:
    """An engine of its own (in memory) for reading snapshots: never the store's connection."""
    from hub.store.db import Database

    db = Database(None, ddl=False)
    try:
        yield db
    finally:
        db.close()

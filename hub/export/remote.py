"""Report files written where their rows are: by the engine's executors, each township's file by one task.

On the embedded store a sheet's data rows are a temporary table (:class:`hub.export.body.Body`) and
the writers render them from it. On an engine whose executors write the files
(``EngineCapabilities.writes_files``: Spark), the rows of every township come out of the keyed query
(:mod:`hub.export.keyed`) as Parquet, one folder per township (``QueryEngine.spill``), and never pass
through the driver: a township's document is a :class:`SpilledDocument` (where its rows are: :class:`SpilledRows`,
not a Body), and :func:`write_files` sends the documents to the executors, where :func:`write_one` opens
each township's rows in an in-memory DuckDB as a Body and calls the same writer
(``WRITERS[format]``, through :func:`hub.export.document.write_document`) the embedded store uses: the same bytes.

A task that fails (a writer's error, an executor lost) fails the batch; its files are then written
here, on the driver, one by one, where a writer's error (a value GBK cannot hold…) is raised as it is
on one machine. On a cluster the warehouse and the output folder must be on storage every executor
mounts at the same place (docs/scaling.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.export import write_csv, write_xlsx  # noqa: F401  (register the built-in writers)
from hub.export.body import Body
from hub.export.document import Document, SheetData, write_document
from hub.export.spec import Sheet, Spec

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.store.db import Database

log = logging.getLogger(__name__)


@dataclass
class SpilledRows:
    """One township's data rows of one sheet: the Parquet files of ``folder`` (absent: no rows),
    with the columns of ``schema``."""

    folder: str
    schema: pa.Schema

    def open(self, db: Database) -> Body:
        """The rows as a Body in ``db`` (an executor's in-memory DuckDB)."""
        files = sorted(Path(self.folder).glob("*.parquet")) if Path(self.folder).is_dir() else []
        if files:
            listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            return Body(db, f"SELECT * FROM read_parquet([{listed}], hive_partitioning = false)")
        name = f"_hub_empty_{uuid.uuid4().hex[:12]}"
        db.register(name, self.schema.empty_table())
        return Body(db, f"SELECT * FROM {name}")

    def close(self) -> None:
        """The township's folder removed once its file is written (or refused); the sheet's folder
        with the last of them."""
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # other townships' folders still in it
            Path(self.folder).parent.rmdir()


@dataclass
class SpilledSheet:
    """A sheet of a :class:`SpilledDocument`: :class:`SheetData` with its rows spilled."""

    sheet: Sheet
    title: str
    meta: str
    footer: list[str]
    rows: SpilledRows
    total: dict[str, Any] | None


@dataclass
class SpilledDocument:
    """A township's document whose sheets' rows are spilled (:class:`SpilledRows`): what an
    executor is sent, a :class:`Document` once opened where the rows are read."""

    spec: Spec
    sheets: list[SpilledSheet]
    created: dt.datetime

    def open(self, db: Database) -> Document:
        return Document(
            self.spec,
            [SheetData(s.sheet, s.title, s.meta, s.footer, s.rows.open(db), s.total) for s in self.sheets],
            self.created,
        )

    def close(self) -> None:
        for s in self.sheets:
            s.rows.close()


def write_one(item: tuple[SpilledDocument, str, str]) -> tuple[int, int]:
    """Write one township's file (``item``: its spilled document, the path, the format) with the
    registered writer; returns the burden figure's (cells, model cells). Runs on an executor (or
    on the driver when the executors could not)."""
    from hub.store.db import Database

    spilled, path, fmt = item
    db = Database(None, threads=1, ddl=False)
    try:
        doc = spilled.open(db)
        try:
            return write_document(doc, Path(path), fmt)
        finally:
            doc.close()
    finally:
        db.close()


def write_files(
    items: Sequence[tuple[SpilledDocument, str, str]],
    many: Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]],
) -> list[tuple[int, int]]:
    """Every file of ``items`` written by ``many`` (the engine's executors, one task per file); if
    that fails, each written here instead, in order (a writer's error raised as on one machine)."""
    if not items:
        return []
    try:
        return [(int(a), int(b)) for a, b in many(write_one, list(items))]
    except Exception as exc:
        log.warning("执行器写出 %d 个文件失败，改为本机写出：%s", len(items), str(exc).splitlines()[0][:300])
    return [write_one(item) for item in items]

"""Reading many files: one ahead in a thread, or a window of them at once on the engine's executors.

An ingest stores its files one at a time (each file one transaction), in the order given. Reading
a file (:func:`hub.ingest.stage_file`: the readers, layout, column recognition; never the store)
and validating it (:func:`hub.validate.validate_file`: the store's few lookups sent along) are
pure, so they can happen elsewhere while the store is busy with the file before:

* on one machine (the embedded engine) the next file is read in a thread while this one is
  validated and stored: one file ahead at most;
* on Spark (``HUB_ENGINE=spark``) a province's batch is read and validated by the executors with
  the same readers and the same validation pass, a window of files at a time
  (:meth:`hub.store.spark.SparkEngine.map_files`: one task per file), the next window while the
  store takes this one.

What the executors could not read (a task that failed: a reader that took its Python worker down,
an executor lost) is read again here, in the caller's process, the way a one-machine ingest reads
it (a hostile file then meets the bounded read of :mod:`hub.ingest.bounded` and is refused with its
reason): no file of the batch is lost, and the result is the same file by file.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import IngestError
from hub.timings import span

if TYPE_CHECKING:
    from hub.ingest.divisions import Divisions
    from hub.ingest.types import StagedFile
    from hub.model import Schema
    from hub.validate import Place

log = logging.getLogger(__name__)

Stage = Callable[[Path], Any]  # a path → its StagedFile or the IngestError refusing it
Many = Callable[[Stage, Sequence[Path]], list[Any]]  # stage every path elsewhere, results in order


def stage_one(
    path: Path,
    schema: Schema,
    divisions: Divisions,
    township: str | None,
    mappings: Mapping[str, Mapping[str, str | None]] | None,
    place: Place | None = None,
    today: date | None = None,
) -> StagedFile | IngestError:
    """The file read and laid out, or the IngestError saying why it cannot be; with ``place`` and
    ``today`` also validated there (:func:`hub.validate.validate_file`). A module-level function
    (with :func:`functools.partial`) so that an executor can be sent it."""
    from hub.ingest import stage_file

    try:
        staged = stage_file(path, schema, divisions, township=township, mappings=mappings)
    except IngestError as exc:
        return exc
    if place is not None and today is not None:
        from hub.validate import validate_file

        validate_file(staged, schema, place, today)
    return staged


def staged_in_order(
    paths: Sequence[Path],
    stage: Stage,
    *,
    given: Mapping[Path, Any] | None = None,
    many: Many | None = None,
    far: Stage | None = None,
    window: int = 1,
) -> Generator[Any, None, None]:
    """Every path of ``paths`` staged, in order, read ahead of the caller: the next ``window`` files
    are read (``many``, on the engine's executors, when two or more of them are still to read; else
    ``stage`` here, in a thread) while the caller stores these. ``given``: files staged already
    (an upload job's), not read again. Where ``many`` fails, its window is read here with ``stage``.

    ``far``: what the executors run for each file (default ``stage``). The ingest sends them the stage
    that validates the file too (:func:`stage_one` with a place), sparing the driver; here the thread
    only reads, and the store validates a file while the thread reads the next one: on one machine
    the faster split (a reading thread that also validated took the ingest of 100,000 persons from
    9.5 s to 12.0 s: reading and validating then follow each other instead of overlapping)."""
    given = given or {}
    size = max(1, window)
    windows = [list(paths[i : i + size]) for i in range(0, len(paths), size)]

    def fetch(batch: list[Path]) -> list[Any]:
        todo = [p for p in batch if p not in given]
        got: dict[Path, Any] = {}
        if many is not None and len(todo) > 1:
            try:
                with span("ingest.executors"):  # the window read elsewhere (beside the store's work)
                    got = dict(zip(todo, many(far or stage, todo), strict=True))
            except Exception as exc:  # a task that failed: its window read here, as on one machine
                log.warning(
                    "执行器读取 %d 个文件失败，改为本机读取：%s", len(todo), str(exc).splitlines()[0][:300]
                )
                got = {}
        return [given[p] if p in given else got[p] if p in got else stage(p) for p in batch]

    if not windows:
        return
    # the thread reads in the caller's context: a bounded read (hub.ingest.bounded) stays one
    with ThreadPoolExecutor(1, thread_name_prefix="hub-stage") as reader:
        ahead = reader.submit(contextvars.copy_context().run, fetch, windows[0])
        for k in range(len(windows)):
            results = ahead.result()
            if k + 1 < len(windows):
                ahead = reader.submit(contextvars.copy_context().run, fetch, windows[k + 1])
            yield from results

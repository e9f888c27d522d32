"""The one facade every interface (CLI, web pages, tests) calls. It chains the pipeline stages:
ingest → validate → store → dedupe (merge) → export. Heavy stages are imported lazily."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any

from hub.errors import HubError, IngestError, ResourceError
from hub.paths import hub_home
from hub.testhook import pause_point
from hub.timings import collecting, span

if TYPE_CHECKING:
    from hub.ingest.divisions import Divisions
    from hub.ingest.types import StagedFile
    from hub.model import Schema
    from hub.store.db import Database
    from hub.validate.annotate import AnnotateJob

Progress = Callable[[str, int, int], None]  # (label, done, total)

LEDGER_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv", ".tsv", ".txt"}
MAX_LISTED_FINDINGS = 10_000  # per file in the JSON/text report; the store and the workbook keep all


@dataclass
class FileReport:
    """What the clerk gets back for one file (the `--json` shape)."""

    file: str
    status: str  # ingested | unchanged | refused | held
    township: str | None = None
    township_name: str | None = None
    kind: str | None = None
    rows: int = 0  # always accepted + rejected + held
    accepted: int = 0
    rejected: int = 0
    held: int = 0  # rows of sheets whose columns wait for the clerk's confirmation (status "held")
    held_sheets: list[dict[str, Any]] = field(default_factory=list)
    held_columns: list[dict[str, Any]] = field(default_factory=list)  # unsure, not used: confirm them
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    annotated: str | None = None
    submission_id: int | None = None
    message: str | None = None
    skipped_sheets: list[dict[str, str]] = field(default_factory=list)
    unused_columns: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    resumed: bool = False  # an earlier, interrupted ingest of this file was finished (docs/operations.md)
    # what a resubmission changed: superseded submissions, persons added / changed / left (待核实)
    resubmission: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PARTIAL = ".partial"  # annotated copies are written as NAME.partial.xlsx, then renamed to NAME.xlsx


class _Copies:
    """The annotated copies of one ingest, being written (:class:`hub.validate.annotate.Batch`) under
    temporary names; :meth:`finish` waits for them, renames each into place (a copy is whole or
    absent, never a 0-byte file) and, in one transaction, records where each is and completes its
    submission."""

    def __init__(
        self,
        db: Database,
        jobs: list[tuple[FileReport, AnnotateJob]],
        workers: int | None = None,
        unit: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
    ) -> None:
        from hub.validate.annotate import Batch

        self.db, self.jobs = db, jobs
        self.unit = unit  # what recording the copies is done inside (the store's unit of work)
        # submission id -> the copy being written (registered in Hub._copying inside the unit)
        self.owed: dict[int, Path] = {int(r.submission_id or 0): job.out for r, job in jobs}
        self.batch = Batch([job for _, job in jobs], workers) if jobs else None

    def finish(self, progress: Progress | None = None) -> None:
        from hub.store.submissions import finish_copies

        if self.batch is None:
            return
        batch, self.batch = self.batch, None
        written = batch.result(progress)
        pause_point("copy-written")
        # renamed into place inside the unit: a submission withdrawn while its copy was being written
        # (Hub.withdraw, another unit) gets no copy; the one written is removed
        with self.unit() if self.unit else contextlib.nullcontext():
            alive = {int(r[0]) for r in self.db.rows("SELECT submission_id FROM hub_submission_state")}
            done: dict[int, str | None] = {}
            for (report, _), path in zip(self.jobs, written, strict=True):
                assert report.submission_id is not None
                if report.submission_id not in alive:
                    Path(path).unlink(missing_ok=True)
                    report.annotated = None
                    continue
                final = _final_name(Path(path))
                os.replace(path, final)
                report.annotated = str(final)
                done[report.submission_id] = report.annotated
            pause_point("copy-renamed")
            finish_copies(self.db, done)

    def cancel(self) -> None:
        if self.batch is not None:
            self.batch.cancel()
            self.batch = None


@dataclass(eq=False)
class _IngestCall:
    """One :meth:`Hub.ingest`'s arguments: done alone, or with the other ingests waiting for the
    store in one unit (:class:`hub.store.units.Together`)."""

    paths: list[Path]
    township: str | None
    today: date | None
    submitted_by: str | None
    annotate: bool
    link: bool
    progress: Progress | None
    columns: Mapping[str, Mapping[str, str | None]] | None
    ready: Mapping[Path, StagedFile | IngestError] | None
    workers: int | None = None
    stopped: Exception | None = None  # what its progress raised (a job asked to stop)

    @property
    def cells(self) -> int:
        return sum(getattr(s, "cells", 0) for s in (self.ready or {}).values())

    def tell(self, label: str, done: int, total: int) -> None:
        """Progress; what the caller's callback raises stops this call only (:class:`_CallStopped`)."""
        if self.progress is not None:
            try:
                self.progress(label, done, total)
            except Exception as exc:
                raise _CallStopped(exc) from exc


class _CallStopped(Exception):
    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _joins(leader: _IngestCall, other: _IngestCall) -> bool:
    """Whether ``other`` is done in ``leader``'s unit: both read already (an upload job's staged
    files) and both small (``HUB_TOGETHER_MAX_CELLS`` cells each, default 200,000): a large upload
    is never held up by, nor holds up, the daily ones it would share a unit with."""
    limit = int(os.environ.get("HUB_TOGETHER_MAX_CELLS", 200_000))
    return all(
        c.ready is not None and set(c.paths) <= set(c.ready) and c.cells <= limit for c in (leader, other)
    )


class Hub:
    """Entry point to everything the hub does, bound to one workspace (``HUB_HOME``)."""

    def __init__(self, home: Path | str | None = None, *, read_only: bool = False, engine: str | None = None):
        self.home = Path(home).resolve() if home else hub_home()
        self._read_only = read_only
        from hub.store.engine import engine_name

        # where the merge and the report queries run (HUB_ENGINE, --engine)
        self.engine_name = engine_name(engine)
        self._engine: Any = None
        # the units of work done by this Hub, and where they stood when the engine was last attached
        self._writes = 0
        self._attached: tuple[int, int, str] | None = None
        from hub.retention import secure_home

        secure_home(self.home)  # files this process writes (store, copies, exports) are 0600
        self._db: Database | None = None
        self.warnings: list[str] = []  # one-line warnings of the last ingest or run (e.g. linkage)
        # One unit of writing work at a time (an ingest, a withdrawal, a merge): the web server's
        # threads share this Hub; statements are serialised by the store, whole units by this lock.
        # Waiting units go lightest first (an upload job's units weigh its cells: hub.store.units).
        from hub.store.units import UnitLock

        self._unit_lock = UnitLock()
        from hub.store.units import Together

        # ingests and merges waiting for the store together are done in one unit each (group commit)
        self._ingests = Together(
            self._unit_lock,
            "导入",
            self._ingest_together,
            _joins,
            linger=float(os.environ.get("HUB_TOGETHER_LINGER_S", 0.5)),
        )
        self._merges: Together[tuple[str, int | None], Any] = Together(
            self._unit_lock, "合并", self._merge_together, lambda a, b: a[0] == b[0]
        )
        # the last merge of this process: the highest submission stored when it started, its summary
        self._merged: tuple[int, Any] | None = None
        # annotated copies this process is writing outside a unit (submission id -> file being written):
        # not "left over" for another unit to write again, their partial files not cleared
        self._copying: dict[int, Path] = {}
        self._readers: set[Database] = set()  # connections of early validations in flight
        self._townships: dict[str, str] = {}  # resolve_township's answers, until divisions are loaded

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def db(self) -> Database:
        if self._db is None:
            from hub.store.db import open_store
            from hub.store.ioerrors import disk_error

            full = None
            try:
                self._db = open_store(self.home, read_only=self._read_only)
            except Exception as exc:  # a full disk: the DDL cannot be written; the store still reads
                full = disk_error(exc, self.home, "打开数据库")
                if full is None:
                    raise
            if full is not None:
                self._db = self._open_as_is(full)
            elif not self._read_only and self._db is not None:
                from hub.extension import create_views

                create_views(self._db, self.schema)  # the views of the admitted fields, as the model has them
                self._deployed(self._db)
        assert self._db is not None
        return self._db

    def _deployed(self, db: Database) -> None:
        """A deploy that changed how the views compute (DDL, admitted fields) is a new data version."""
        from hub.exchange.versions import definitions, deployed
        from hub.store.db import DDL_DIR

        columns = [(spec.entity, name) for name, spec in self.schema.extensions().items()]
        try:
            deployed(db, definitions(DDL_DIR, columns))
        except Exception as exc:  # a full disk: the store still reads; the next open records it
            from hub.store.ioerrors import disk_error

            full = disk_error(exc, self.home, "记录部署")
            if full is None:
                raise
            self.warnings.append(full.message)

    def _open_as_is(self, full: HubError) -> Database:
        """The store opened without (re)applying its DDL, when the disk has no room to write it: every
        read works (``hub status``); a write fails with the same message."""
        import gc

        from hub.store.db import Database

        gc.collect()  # the connection of the failed open, so the file can be opened again
        self.warnings.append(full.message)
        return Database(self.home / "hub.duckdb", ddl=False)

    @contextlib.contextmanager
    def _unit(self, doing: str) -> Iterator[None]:
        """One unit of writing work: serialised with the others, a full disk or the store's memory
        limit reached said in one message."""
        from hub.store.ioerrors import disk_error, memory_error
        from hub.store.units import timed

        with timed(self._unit_lock, doing):
            try:
                yield
            except Exception as exc:
                if isinstance(exc, ResourceError):  # said already (a full disk, the memory limit)
                    raise
                said = disk_error(exc, self.home, doing) or memory_error(exc, doing)
                if said is None:
                    raise
                raise said from exc
            finally:
                self._writes += 1  # what the engine was attached to may have changed (query_engine)

    @property
    def schema(self) -> Schema:
        from hub.model import load_schema

        return load_schema()

    def divisions(self) -> Divisions:
        from hub.ingest.divisions import Divisions

        return Divisions.from_db(self.db)

    def use_engine(self, name: str | None) -> None:
        """Run the report queries on engine ``name`` from now on (None: keep the configured one)."""
        from hub.store.engine import engine_name

        if name is None or engine_name(name) == self.engine_name:
            return
        if self._engine is not None:
            self._engine.close()
            self._engine, self._attached = None, None
        self.engine_name = engine_name(name)

    def query_engine(self) -> Any:
        """The configured engine, attached to the store's current merged tables: again only when a
        unit of work of this Hub has ended since, or the store's data version or submissions moved
        (:func:`hub.exchange.versions.mark`), so the pulls between two writes publish nothing again."""
        from hub.exchange.versions import mark

        engine = self.engine()
        now = (self._writes, *mark(self.db))
        if self._attached != now:
            engine.attach(self.db)
            self._attached = now
        return engine

    def engine(self) -> Any:
        """The configured engine (``HUB_ENGINE``, ``--engine``), not yet attached to the store."""
        from hub.store.engine import open_engine

        if self._engine is None:
            self._engine = open_engine(self.db, self.home, self.engine_name)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine, self._attached = None, None
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- divisions --------------------------------------------------------------------------------
    def load_divisions(self, path: Path) -> dict[str, int]:
        from hub.exchange.versions import bump
        from hub.ingest.divisions import Divisions, read_divisions_csv

        items = read_divisions_csv(Path(path))
        Divisions(items).save(self.db)
        self._townships.clear()
        bump(self.db, "区划")  # names in the reports may change
        levels: dict[str, int] = {}
        for d in items:
            levels[d.level] = levels.get(d.level, 0) + 1
        return levels

    # -- ingest -----------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[Path],
        *,
        township: str | None = None,
        today: date | None = None,
        submitted_by: str | None = None,
        annotate: bool = True,
        link: bool = True,
        progress: Progress | None = None,
        columns: Mapping[str, Mapping[str, str | None]] | None = None,
        staged: Mapping[Path, StagedFile | IngestError] | None = None,
    ) -> list[FileReport]:
        """Ingest files one by one; each file is one transaction. A file that cannot be read is
        refused with a message and leaves the store untouched. Then entity resolution runs over the
        store (``link``): a row whose valid ID belongs to someone else is rejected (``id-misused``), a
        row rejected only for its ID is filled from a sure match (``id-filled-by-match``) or given
        candidates. Each file's report, counts and annotated workbook show that final state.

        ``columns``: confirmed column mappings by layout (:func:`hub.ingest.columns.mapfile.read_mapfile`);
        they win over the remembered ones and are remembered for the file's township once it is in.
        A file with a column the hub is unsure of is held whole (status ``held``), never stored in part.

        Every submission goes stored → linked → complete (docs/operations.md); a file whose earlier
        ingest was interrupted (kill, full disk, SIGTERM) is finished, not reported "unchanged", and
        any other unfinished submission is finished too. A full disk raises
        :class:`hub.errors.ResourceError`.

        ``staged``: files already read and laid out by :meth:`stage` (not read again)."""
        call = _IngestCall(
            [Path(p) for p in paths], township, today, submitted_by, annotate, link, progress, columns, staged
        )
        # one unit with the other ingests waiting for the store (each file still its own transaction)
        reports, copies = self._ingests.submit(call)
        # the copies are written outside the unit (other units go meanwhile) and recorded inside one;
        # until then their submissions stay "linked" (docs/operations.md): a kill leaves them owed
        try:
            copies.finish(progress)
        finally:
            copies.cancel()
            for sid in copies.owed:
                self._copying.pop(sid, None)
        if progress:
            progress("", len(reports), len(reports))
        return reports

    def _ingest(
        self,
        paths: Iterable[Path],
        township: str | None,
        today: date | None,
        submitted_by: str | None,
        annotate: bool,
        link: bool,
        progress: Progress | None,
        workers: int | None = None,
        columns: Mapping[str, Mapping[str, str | None]] | None = None,
        ready: Mapping[Path, StagedFile | IngestError] | None = None,
    ) -> tuple[list[FileReport], _Copies]:
        """:meth:`ingest` up to its annotated copies, which are being written when this returns
        (inside a unit the caller holds)."""
        call = _IngestCall(
            [Path(p) for p in paths],
            township,
            today,
            submitted_by,
            annotate,
            link,
            progress,
            columns,
            ready,
            workers,
        )
        (out,) = self._ingest_together([call])
        if isinstance(out, Exception):
            raise out
        return out

    def _ingest_together(
        self, calls: Sequence[_IngestCall]
    ) -> list[tuple[list[FileReport], _Copies] | Exception]:
        """The ingests of ``calls`` in one unit: each call's files validated and stored in turn (each
        file one transaction), then **one** entity resolution for all of them, then each file's final
        counts, findings and annotated copy (written after the unit). A call whose progress asked to
        stop gets that exception back and the others go on; its stored files are linked with theirs
        (the job withdraws them)."""
        with self._unit("导入"):
            self.warnings = []
            self._recover()
            divisions = self.divisions()
            stored: list[list[FileReport]] = []
            for call in calls:
                try:
                    stored.append(self._store(call, divisions))
                except _CallStopped as stop:
                    call.stopped = stop.cause
                    stored.append([])
            going = [c for c in calls if c.stopped is None]

            def linking(label: str, _done: int, _total: int) -> None:
                for call in going:
                    try:
                        call.tell(label, len(call.paths), len(call.paths))
                    except _CallStopped as stop:
                        call.stopped = stop.cause
                if all(c.stopped is not None for c in going):
                    raise _CallStopped(going[0].stopped or RuntimeError())

            if not going:
                return [c.stopped or RuntimeError() for c in calls]
            try:
                linked = self._finish_linking(linking, sum(len(c.paths) for c in calls))
            except _CallStopped:
                return [c.stopped or RuntimeError() for c in calls]
            from hub.exchange.departures import describe

            ours = {r.submission_id for reports in stored for r in reports if r.status == "ingested"}
            out: list[tuple[list[FileReport], _Copies] | Exception] = []
            leftovers = self._leftover_copies(linked - ours)
            for call, reports in zip(calls, stored, strict=True):
                if call.stopped is not None:
                    out.append(call.stopped)
                    continue
                ingested = [r for r in reports if r.status == "ingested"]
                for report in ingested:
                    report.resubmission = describe(self.db, int(report.submission_id or 0))
                jobs = [
                    job
                    for report in ingested
                    if (job := self._refresh(report, report.submission_id in linked))
                ]
                jobs, leftovers = jobs + leftovers, []  # the first call writes the copies others left owed
                copies = _Copies(self.db, jobs, call.workers, unit=lambda: self._unit("导入"))
                self._copying.update(copies.owed)
                out.append((reports, copies))
            return out

    def _store(self, call: _IngestCall, divisions: Divisions) -> list[FileReport]:
        """One call's files validated and stored in turn, each file one transaction."""
        from functools import partial

        from hub.ingest.parallel import stage_one, staged_in_order
        from hub.validate import Place

        paths, reports = call.paths, []
        mappings = {**self.column_mappings(call.township), **(call.columns or {})}
        unread = [p for p in paths if p not in (call.ready or {})]
        stage = partial(
            stage_one, schema=self.schema, divisions=divisions, township=call.township, mappings=mappings
        )
        # The next file is read and laid out (Python and pyarrow, no store) in a thread while this one
        # is validated and stored (DuckDB); a batch of files still to read goes to the engine's
        # executors a window at a time, on an engine that has them, and each is validated there too,
        # with what validation reads of the store sent along (hub.ingest.parallel, hub.validate).
        engine = self.engine() if len(unread) > 1 else None
        window = engine.files_at_once() if engine is not None else 1
        staged_files = staged_in_order(
            paths,
            stage,
            given=call.ready,
            many=engine.map_files if engine is not None else None,
            far=partial(stage, place=Place.of(self.db), today=call.today or date.today())
            if window > 1
            else None,
            window=window,
        )
        try:
            for i, path in enumerate(paths):
                call.tell(path.name, i, len(paths))
                staged = next(staged_files)
                today = call.today or date.today()
                reports.append(
                    self._ingest_one(
                        path,
                        staged,
                        divisions,
                        today,
                        call.submitted_by,
                        call.columns,
                        call.link,
                        call.annotate,
                    )
                )
                if call.columns and reports[-1].status == "ingested" and not isinstance(staged, IngestError):
                    self._remember_columns(staged, call.columns, reports[-1], call.submitted_by)
        finally:
            staged_files.close()  # the file being read ahead, waited for
        return reports

    def _recover(self) -> None:
        """Before any work: what a killed run left behind is cleared (scratch tables, annotated
        copies half written under their temporary names). Unfinished submissions are finished by
        the steps that follow (:meth:`_finish_linking`, the copies)."""
        from hub.store.scratch import drop_scratch
        from hub.store.submissions import unfinished

        drop_scratch(self.db)
        busy = {p.with_suffix("").name for p in self._copying.values()}
        for partial in (self.home / "annotated").glob(f"*{PARTIAL}.*"):
            if partial.with_suffix("").name not in busy:  # not one this process is writing now
                partial.unlink(missing_ok=True)
        stored = [u["updated_at"] for u in unfinished(self.db) if u["state"] == "stored"]
        if stored:  # entity resolution may have been cut short after these rows were stored
            self._undo_linkage(min(stored))

    def _undo_linkage(self, since: datetime) -> None:
        from hub.store.submissions import undo_unfinished_linkage

        severities = {code: f.severity for code, f in self.schema.findings.items()}
        undo_unfinished_linkage(self.db, since, severities)

    def _finish_linking(self, progress: Progress | None, files: int) -> set[int]:
        """Entity resolution when a stored submission asked for it, then (one transaction) the
        counts re-derived and every stored submission moved on. Returns the ids that still need
        their annotated copy (state ``linked``)."""
        from hub.store.submissions import finish_linking, unfinished

        stored = [s for s in unfinished(self.db) if s["state"] == "stored"]
        if any(s["link"] for s in stored):
            if progress:
                progress("比对人员", files, files)
            with span("link"):
                self.link()
            pause_point("linking")
        from hub.exchange.departures import supersede

        supersede(self.db, [int(s["submission_id"]) for s in stored])  # docs/operations.md, resubmissions
        linked = set(finish_linking(self.db))
        pause_point("linked")
        return linked

    def _leftover_copies(self, ids: set[int]) -> list[tuple[FileReport, AnnotateJob]]:
        """The annotated copies still owed by submissions of earlier, interrupted ingests of other
        files; a source file no longer there completes its submission without one (and says so)."""
        from hub.store.submissions import finish_copies, unfinished

        jobs = []
        for s in unfinished(self.db):
            if s["submission_id"] not in ids or s["submission_id"] in self._copying:
                continue
            source = Path(s["source_path"] or s["file_name"])
            report = FileReport(file=str(source), status="ingested", submission_id=s["submission_id"])
            job = self._refresh(report, source.is_file())
            if job is not None:
                jobs.append(job)
                self.warnings.append(f"补完上次中断的导入：{source.name}（提交号 {s['submission_id']}）。")
            else:
                finish_copies(self.db, {s["submission_id"]: None})
                self.warnings.append(
                    f"上次中断的导入 {source.name}（提交号 {s['submission_id']}）已补完，"
                    "但原文件已不在，未生成标注文件。"
                )
        return jobs

    def stage(
        self,
        paths: Iterable[Path],
        *,
        township: str | None = None,
        columns: Mapping[str, Mapping[str, str | None]] | None = None,
    ) -> dict[Path, StagedFile | IngestError]:
        """Read and lay out files (pure Python and Arrow; the store only read) outside the unit of
        work, so an upload job reads its files while another's writes; then ``ingest(staged=...)``.
        All are held until stored: a file that takes their cells past ``HUB_MAX_CELLS`` is refused
        (:func:`hub.ingest.limits.job_cells_error`), so one job holds at most one large file's worth."""
        from hub.ingest.limits import CELLS, job_cells_error, value

        divisions = self.divisions()
        mappings = {**self.column_mappings(township), **(columns or {})}
        staged: dict[Path, StagedFile | IngestError] = {}
        total = 0
        for path in map(Path, paths):
            staged[path] = got = self._stage(path, divisions, township, mappings)
            cells = 0 if isinstance(got, IngestError) else got.cells
            if total + cells > value(CELLS):
                staged[path] = job_cells_error(total + cells, path.name)
            else:
                total += cells
        self._validate_early(staged)
        return staged

    def ingest_coming(self) -> contextlib.AbstractContextManager[None]:
        """Say that an ingest is on its way while the block runs (an upload job reading a small
        file): the ingest that gets the store next waits for it a moment (``HUB_TOGETHER_LINGER_S``,
        default 0.5 s) to share its unit (:class:`hub.store.units.Together`)."""
        return self._ingests.coming()

    def _validate_early(self, staged: Mapping[Path, StagedFile | IngestError]) -> None:
        """Validate the staged files now, on a connection of their own, before the store's unit: the
        pass reads only the file, the code lists and the divisions, so it neither waits for the unit
        in flight nor holds the store (docs/operations.md, "Upload jobs"). The ingest uses the
        results when it stores the file the same day."""
        from hub.validate import validate_sheet

        todo = [s for s in staged.values() if not isinstance(s, IngestError) and not s.held and s.sheets]
        if not todo:
            return
        today = date.today()
        reader = self.db.reader()
        self._readers.add(reader)
        try:
            for file in todo:
                file.validated = [validate_sheet(reader, sheet, self.schema, today) for sheet in file.sheets]
                file.validated_on = today
        finally:
            self._readers.discard(reader)
            reader.close()

    def interrupt(self) -> None:
        """Interrupt the store statements in flight (shutdown after its grace period): the unit's
        (its transaction rolls back) and the early validations'."""
        for db in [self._db, *list(self._readers)]:
            if db is not None:
                with contextlib.suppress(Exception):  # the connection is closing anyway
                    db.con.interrupt()

    def _stage(
        self,
        path: Path,
        divisions: Divisions,
        township: str | None,
        mappings: Mapping[str, Mapping[str, str | None]] | None = None,
    ) -> StagedFile | IngestError:
        """The file read and laid out, or why it cannot be (never touches the store)."""
        from hub.ingest.parallel import stage_one

        return stage_one(path, self.schema, divisions, township, mappings)

    # -- column recognition -------------------------------------------------------------------------
    def column_mappings(self, township: str | None = None) -> dict[str, dict[str, str | None]]:
        """Confirmed column mappings by layout, the township's own first (``hub_column_maps``)."""
        from hub.ingest.columns.memory import load_mappings

        code = None
        if township:
            try:
                code = self.resolve_township(township)
            except HubError:
                code = None
        return load_mappings(self.db, code)

    def column_guesses(self, path: Path, township: str | None = None) -> dict[str, Any]:
        """What the hub makes of every column of ``path`` (``hub columns``, the upload's column step):
        per sheet its layout key, whether it is held and why, and each column's field, confidence,
        evidence, sample values and alternatives. Nothing is stored."""
        from hub.ingest.columns import describe, layout_key

        staged = self._stage(Path(path), self.divisions(), township, self.column_mappings(township))
        if isinstance(staged, IngestError):
            raise staged
        sheets = [
            {
                "sheet": h.sheet,
                "layout": h.layout,
                "held": True,
                "reason": h.reason,
                "rows": h.rows,
                "columns": [describe(c, self.schema) for c in h.columns],
            }
            for h in staged.held
        ] + [
            {
                "sheet": s.sheet,
                "layout": layout_key(c.header for c in s.columns),
                "held": False,
                "reason": "",
                "rows": s.data.num_rows,
                "columns": [describe(c, self.schema) for c in s.columns],
            }
            for s in staged.sheets
        ]
        town = staged.sheets[0].township_code if staged.sheets else None
        return {"file": Path(path).name, "township": town, "sheets": sheets}

    def confirm_columns(
        self,
        township: str | None,
        layout: str,
        fields: Mapping[str, str | None],
        *,
        by: str | None = None,
        file_name: str | None = None,
    ) -> int:
        """Remember a confirmed mapping (header as written → field or None) for a township's layout."""
        from hub.ingest.columns.memory import remember

        return remember(self.db, township, layout, list(fields), fields, by=by, file_name=file_name)

    def _remember_columns(
        self,
        staged: StagedFile,
        columns: Mapping[str, Mapping[str, str | None]],
        report: FileReport,
        by: str | None,
    ) -> None:
        from hub.ingest.columns import layout_key

        for sheet in staged.sheets:
            key = layout_key(c.header for c in sheet.columns)
            if key in columns:
                fields = {c.header: c.field for c in sheet.columns}
                self.confirm_columns(report.township, key, fields, by=by, file_name=Path(report.file).name)

    def _ingest_one(
        self,
        path: Path,
        staged: StagedFile | IngestError,
        divisions: Divisions,
        today: date,
        submitted_by: str | None,
        columns: Mapping[str, Mapping[str, str | None]] | None = None,
        link: bool = True,
        annotate: bool = True,
    ) -> FileReport:
        from hub.store.submissions import find_by_sha, save_submission, set_options
        from hub.validate import validate_sheet

        if isinstance(staged, IngestError):
            return FileReport(file=str(path), status="refused", message=str(staged))
        if staged.held:
            return _held_report(path, staged, self.schema)
        if columns:  # the same file with newly confirmed columns is another submission
            from hub.ingest.columns import layout_key

            layouts = sorted(
                k for s in staged.sheets if (k := layout_key(c.header for c in s.columns)) in columns
            )
            if layouts:
                import hashlib
                import json

                mapping = json.dumps([columns[k] for k in layouts], ensure_ascii=False, sort_keys=True)
                staged.sha256 = hashlib.sha256((staged.sha256 + mapping).encode()).hexdigest()
        previous = find_by_sha(self.db, staged.sha256)
        if previous is not None and previous["state"] != "complete":
            # an earlier ingest of this very file was interrupted: its rows are in; finish the rest
            sid = int(previous["submission_id"])
            set_options(self.db, sid, link=link, annotate=annotate, source=str(path))
            report = _file_report(path, staged, [(s, None) for s in staged.sheets], divisions, self.schema)
            report.status, report.submission_id, report.resumed = "ingested", sid, True
            report.message = (
                f"该文件上次导入未完成（提交号 {sid}，{_STATE_LABEL.get(previous['state'], previous['state'])}），"
                "本次已补完其余步骤。"
            )
            return report
        if previous is not None:
            return FileReport(
                file=str(path),
                status="unchanged",
                township=previous["township_code"],
                kind=previous["kind"],
                rows=previous["rows"],
                accepted=previous["accepted"],
                rejected=previous["rejected"],
                submission_id=previous["submission_id"],
                annotated=previous["annotated_path"],
                message=f"该文件已于 {previous['submitted_at']:%Y-%m-%d %H:%M} 导入（提交号 "
                f"{previous['submission_id']}），内容相同，未作任何改动。",
            )
        if not staged.sheets:
            return FileReport(file=str(path), status="refused", message=f"{path.name}: 没有可导入的数据行。")
        if staged.validated is not None and staged.validated_on == today:  # validated before the unit
            results = list(zip(staged.sheets, staged.validated, strict=True))
        else:
            results = [(sheet, validate_sheet(self.db, sheet, self.schema, today)) for sheet in staged.sheets]
        if staged.notes:  # the readers' warnings (stray cells left out, broken CSV lines) are findings too
            import pyarrow as pa

            from hub.ingest.readers import notes_as_findings

            first = results[0][1]
            extra = notes_as_findings(staged.notes, first.findings.schema)
            first.findings = pa.concat_tables([first.findings, extra])
        report = _file_report(path, staged, results, divisions, self.schema)
        pause_point("read")
        try:
            report.submission_id = save_submission(
                self.db,
                staged,
                results,
                file_name=path.name,
                township_code=report.township,
                submitted_by=submitted_by,
                source_path=str(path),
                link=link,
                annotate=annotate,
            )
        except Exception as exc:  # the transaction rolled back; the store is as it was
            from hub.store.ioerrors import disk_failure

            if self.db.is_engine_error(exc) and disk_failure(exc) is None:
                return FileReport(
                    file=str(path),
                    status="refused",
                    message=f"{path.name}: 写入数据库失败，未作任何改动：{exc}",
                )
            raise
        report.status = "ingested"
        pause_point("stored")
        return report

    def link(self, full: bool = False) -> Any:
        """Entity resolution (idempotent): what changed since the last run is linked against the store
        (:func:`hub.dedupe.linkage.incremental.link_delta`), or, when that cannot be exact or ``full``,
        the whole store again; submission counts re-synced after.
        Scratch tables (Splink's ``__splink__*``, the stage's ``__link_*``…) are dropped before and
        after, whatever happens (:mod:`hub.store.scratch`)."""
        from hub.dedupe.linkage import LinkageConfig, run_linkage
        from hub.dedupe.linkage.incremental import link_delta
        from hub.store.scratch import drop_scratch
        from hub.store.submissions import sync_counts

        model = self.home / "linkage" / "model.json"
        _drop_broken_model(model)
        drop_scratch(self.db)
        cfg = LinkageConfig(model_path=model)
        try:
            # what changed since the last run, against the store; the whole store when that cannot be exact
            # the pairs scored by the configured engine (HUB_ENGINE, --engine); trained on the store
            engine = self.engine()
            summary = None if full else link_delta(self.db, cfg, engine=engine)
            if summary is None:
                drop_scratch(self.db)
                summary = run_linkage(self.db, cfg, engine=engine)
        except BaseException:
            with contextlib.suppress(Exception):  # the error in flight is the one to report
                drop_scratch(self.db)
            raise
        drop_scratch(self.db)
        sync_counts(self.db)
        from hub.dedupe.linkage.incremental import record_state

        record_state(self.db, bool(getattr(summary, "plain", False)))
        self.warnings += [w for w in getattr(summary, "warnings", ()) if w not in self.warnings]
        return summary

    def _refresh(self, report: FileReport, annotate: bool) -> tuple[FileReport, AnnotateJob] | None:
        """Counts and findings of a submission as the store holds them now; the annotated copy to
        write (when asked and there is a finding)."""
        from hub.store.submissions import finding_totals, submission_findings
        from hub.validate.annotate import AnnotateJob, max_marked_rows, truncation_note

        sid = report.submission_id
        assert sid is not None  # only ingested files are refreshed
        counts = self.db.dicts(
            "SELECT rows, accepted, rejected FROM hub_submissions WHERE submission_id = ?", [sid]
        )
        report.rows, report.accepted, report.rejected = (
            counts[0][k] for k in ("rows", "accepted", "rejected")
        )
        listed = MAX_LISTED_FINDINGS + 1  # one more: whether the list is truncated
        errors = [_finding_item(f) for f in submission_findings(self.db, sid, severity="error", limit=listed)]
        warnings = [
            _finding_item(f) for f in submission_findings(self.db, sid, severity="warning", limit=listed)
        ]
        # the copy marks the first rows with a problem (hub.validate.annotate.MAX_MARKED_ROWS)
        findings = submission_findings(self.db, sid, max_rows=max_marked_rows())
        report.truncated = max(len(errors), len(warnings)) > MAX_LISTED_FINDINGS
        report.errors, report.warnings = errors[:MAX_LISTED_FINDINGS], warnings[:MAX_LISTED_FINDINGS]
        if not (annotate and findings):
            return None
        path = Path(report.file)
        columns = {
            (sheet, header): col
            for sheet, header, col in self.db.rows(
                "SELECT sheet, header, col_index FROM hub_columns WHERE submission_id = ?", [sid]
            )
        }
        sha = self.db.scalar("SELECT sha256 FROM hub_submissions WHERE submission_id = ?", [sid])
        out_dir = self.home / "annotated"
        out_dir.mkdir(parents=True, exist_ok=True)
        marked = [{**_finding_item(f), "severity": f["severity"]} for f in findings]
        rows, total = finding_totals(self.db, sid)
        if rows > max_marked_rows():
            marked.append(truncation_note(rows, max_marked_rows(), total - len(findings)))
        out = out_dir / f"{path.stem}_{str(sha)[:8]}_批注{PARTIAL}.xlsx"  # renamed when whole
        return report, AnnotateJob(path, marked, columns, out)

    # -- the store --------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        from hub.store.submissions import store_status

        out = store_status(self.db)
        out["home"] = str(self.home)
        return out

    def validation_report(
        self, submission_id: int, out_dir: Path | None = None, today: date | None = None
    ) -> dict[str, Any]:
        """The steward's great-expectations report for a stored submission (HTML), parity-checked."""
        from hub.validate.steward import validation_report, write_index

        root = self.home / "validation"
        target = Path(out_dir or root / f"submission-{submission_id}")
        result = validation_report(self.db, self.schema, submission_id, target, today or date.today())
        write_index(self.db, root)  # the steward's page /steward/validation opens root/index.html
        return result

    # -- withdrawal -----------------------------------------------------------------------------
    def withdraw(self, submission_id: int, *, by: str, reason: str) -> dict[str, Any]:
        """Withdraw a stored submission: its rows, findings and header map leave the store (one
        transaction), entity resolution and the merge run again without them, so it is gone from
        every report; the submission (file, township, counts, who sent it) and the decision (``by``,
        when, ``reason``) stay in ``hub_withdrawals`` for good. Its annotated copy is deleted.

        Returns the audit row plus ``persons`` (after the merge) and ``resumed`` (an interrupted
        withdrawal of this submission was finished). An unknown id, an id already withdrawn, or an
        empty ``by``/``reason`` is a :class:`HubError` (bad input); a full disk a
        :class:`hub.errors.ResourceError`. The stable codes of persons who leave are kept (never
        reused). Documented in docs/operations.md."""
        from hub.store.submissions import complete_withdrawal, withdraw_submission, withdrawal

        by, reason = (by or "").strip(), (reason or "").strip()
        if not reason:
            raise HubError(
                "请写明撤回原因（--reason）：撤回记录永久保存，供日后核查。", code="withdraw-reason"
            )
        if not by:
            raise HubError("请写明撤回人（--by）。", code="withdraw-by")
        with self._unit("撤回"):
            done = withdrawal(self.db, submission_id)
            if done is not None and done["completed_at"] is not None:
                raise HubError(
                    f"提交号 {submission_id}（{done['file_name']}）已于 {done['withdrawn_at']:%Y-%m-%d %H:%M} "
                    f"由 {done['withdrawn_by']} 撤回（原因：{done['reason']}），不能再次撤回。",
                    code="already-withdrawn",
                )
            if done is None:
                found = self.db.dicts(
                    "SELECT submission_id FROM hub_submissions WHERE submission_id = ?", [submission_id]
                )
                if not found:
                    raise HubError(
                        f"没有提交号为 {submission_id} 的报送文件。请用 hub status --json 或网页上的报送记录核对提交号。",
                        code="submission-unknown",
                    )
                done = withdraw_submission(self.db, submission_id, by=by, reason=reason)
                resumed = False
            else:  # withdrawn, but killed before the store was re-linked and merged
                resumed = True
                self._undo_linkage(done["withdrawn_at"])
            pause_point("withdrawn")
            # a copy this process is writing is removed by its ingest once written (_Copies.finish)
            writing = {p.with_suffix("").name for p in self._copying.values()}
            for copy in (self.home / "annotated").glob(f"*_{str(done['sha256'])[:8]}_批注*"):
                if copy.with_suffix("").name not in writing:
                    copy.unlink(missing_ok=True)
            if self.db.scalar("SELECT count(*) FROM hub_link_clusters") or self.db.scalar(
                "SELECT count(*) FROM hub_submission_state WHERE link"
            ):
                self.link()  # a row flagged or filled because of the withdrawn rows is looked at again
            merged = self.merge(f"撤回 {submission_id}")
            complete_withdrawal(self.db, submission_id)
            out = dict(withdrawal(self.db, submission_id) or done)
        return {**out, "persons": merged.persons, "resumed": resumed}

    def withdrawals(self) -> list[dict[str, Any]]:
        """The audit trail of withdrawals, newest first."""
        return self.db.dicts("SELECT * FROM hub_withdrawals ORDER BY withdrawn_at DESC, submission_id DESC")

    # -- merge, conflicts -------------------------------------------------------------------------
    def merge(self, cause: str = "合并", *, covering: int | None = None) -> Any:
        """Bring the merged records up to date: only the entities whose rows or codes changed since the
        last merge are recomputed (docs/merging.md, "Incremental merge"); then a new data version, on
        which the feed's snapshots and cursors key (docs/exchange.md).

        Merges asked for while another unit holds the store are done as one. ``covering``: the
        highest submission the caller stored; when a merge of this process has started since it was
        stored (another job's merge took it in), nothing is merged again and that merge's summary is
        returned."""
        return self._merges.submit((cause, covering))

    def _merge_together(self, requests: Sequence[tuple[str, int | None]]) -> list[Any]:
        from hub.exchange.versions import bump

        with self._unit("合并"):
            done = self._merged
            if done is not None and all(c is not None and c <= done[0] for _, c in requests):
                return [done[1]] * len(requests)
            upto = int(self.db.scalar("SELECT coalesce(max(submission_id), 0) FROM hub_submissions") or 0)
            result = self.engine().merge(self.db)
            bump(
                self.db, requests[0][0], result.townships
            )  # the townships it changed: others keep their files
            self._merged = (upto, result)
        return [result] * len(requests)

    def catch_up(self) -> Any | None:
        """The merged records brought up to date before they are read (an export, the conflicts
        list). On an engine whose merge is incremental (the store) that is :meth:`merge`, nothing to
        do when nothing changed; on one whose every merge is the full one (Spark), a merge only when
        submissions were stored or withdrawn since the last (``hub ingest`` stores without merging):
        every other change (a review decision, a withdrawal) merges itself. Returns the merge's
        summary, or None when none was needed."""
        from hub.exchange.versions import stale

        if self.engine().capabilities.incremental_merge or stale(self.db):
            return self.merge()
        return None

    def rebuild(self) -> dict[str, Any]:
        """The full path, kept as the oracle of the incremental one: entity resolution over the whole
        store, then every person, household and business merged again from all rows in force."""
        from hub.exchange.versions import bump

        with self._unit("重建"):
            clock = perf_counter()
            linked = bool(self.db.scalar("SELECT count(*) FROM hub_link_clusters")) or bool(
                self.db.scalar("SELECT count(*) FROM hub_submission_state WHERE link")
            )
            if linked:
                self.link(full=True)
            link_s = perf_counter() - clock
            merged = self.engine().merge(self.db, full=True)
            bump(self.db, "重建")
        return {
            "linked": linked,
            "persons": merged.persons,
            "households": merged.households,
            "businesses": merged.businesses,
            "conflicts": merged.conflicts,
            "seconds": {"link": round(link_s, 2), "merge": round(perf_counter() - clock - link_s, 2)},
        }

    def conflicts(self, township: str | None = None) -> list[dict[str, Any]]:
        from hub.dedupe import list_conflicts

        code = self.resolve_township(township) if township else None
        return list_conflicts(self.db, code) + self._misuse_conflicts(code)

    def _misuse_conflicts(self, township: str | None) -> list[dict[str, Any]]:
        """Rows kept out of the merge because their valid ID belongs to someone else (号码误用), in the
        shape of the other conflicts: the code is the ID holder's person code."""
        rows = self.db.dicts(
            """
            WITH holder AS (
                SELECT id_number, mode(name) AS name FROM hub_rows
                WHERE accepted AND id_number IN (SELECT id_number FROM hub_link_misuse) GROUP BY id_number
            )
            SELECT 'person' AS entity, c.code, h.name, 'id_number' AS field, '号码误用' AS kind,
                   h.name AS chosen, m.reason AS rule, m.submission_id, s.file_name, m.sheet, m.row_no,
                   r.name AS row_name, r.kind AS ledger, s.submitted_at
            FROM hub_link_misuse m
            JOIN hub_submissions s USING (submission_id)
            JOIN hub_rows r USING (submission_id, sheet, row_no)
            LEFT JOIN holder h ON h.id_number = m.id_number
            LEFT JOIN hub_codes c ON c.entity = 'person' AND c.natural_key = m.id_number
            WHERE $township IS NULL OR s.township_code = $township
            ORDER BY m.id_number, m.submission_id, m.sheet, m.row_no
            """,
            {"township": township},
        )
        return [
            {
                **{k: r[k] for k in ("entity", "code", "name", "field", "kind", "chosen", "rule")},
                "sources": [
                    {
                        "value": r["row_name"],
                        "submission_id": r["submission_id"],
                        "file": r["file_name"],
                        "sheet": r["sheet"],
                        "row": r["row_no"],
                        "kind": r["ledger"],
                        "submitted_at": str(r["submitted_at"]),
                    }
                ],
            }
            for r in rows
        ]

    def resolve_township(self, text: str) -> str:
        if text in self._townships:  # every API pull asks; divisions change only by load_divisions
            return self._townships[text]
        found = self.divisions().resolve_township(text)
        if len(found) != 1:
            names = "、".join(d.name for d in found) or "无"
            raise HubError(
                f"无法确定乡镇（街道）“{text}”：匹配到 {names}。请填写9位乡镇代码。", code="township-unknown"
            )
        self._townships[text] = str(found[0].code)[:9]
        return self._townships[text]

    # -- entity resolution: review and explanations ----------------------------------------------
    def review_pending(self, limit: int | None = None) -> list[dict[str, Any]]:
        from hub.dedupe.linkage import pending_pairs

        return pending_pairs(self.db, limit)

    def review_count(self) -> int:
        from hub.dedupe.linkage.review import pending_count

        return pending_count(self.db)

    def review_decide(self, pair_id: str, decision: str, who: str) -> dict[str, Any]:
        """Record a steward's decision (kept forever: the pair is never asked again) and apply it:
        linkage and merge run again so persons and codes reflect it at once."""
        from hub.dedupe.linkage import decide

        with self._unit("记录决定"):
            decide(self.db, pair_id, decision, who)
            self._apply_decision()
            merged = self.merge(f"复核 {pair_id}")
        return {"pair": pair_id, "decision": decision, "by": who, "persons": merged.persons}

    def _apply_decision(self) -> None:
        """A decision re-clusters the last run's pairs (no re-scoring) when the store is as that run
        saw it; otherwise, or when it fills a rejected row, the full linkage runs."""
        from hub.dedupe.linkage import LinkageConfig
        from hub.dedupe.linkage.incremental import apply_decisions
        from hub.store.scratch import drop_scratch

        cfg = LinkageConfig(model_path=self.home / "linkage" / "model.json")
        try:
            done = apply_decisions(self.db, cfg)
        finally:
            drop_scratch(self.db)
        if not done:
            self.link()
        else:
            from hub.store.submissions import sync_counts

            sync_counts(self.db)

    def explain(self, code: str) -> dict[str, Any]:
        """Where a person's record comes from: source rows, pair decisions and the fields that carried
        them, absorbed codes (redirects), fills and misuse flags, and the merged values."""
        from hub.dedupe import explain_person
        from hub.dedupe.linkage import explain

        out = explain(self.db, code)
        try:
            out["merged"] = explain_person(self.db, out["code"])
        except HubError:
            out["merged"] = None
        return out

    # -- export -----------------------------------------------------------------------------------
    def export(
        self,
        *,
        reports: list[str] | None = None,
        townships: list[str] | None = None,
        ref_date: date | None = None,
        out_dir: Path | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> list[Any]:
        from hub.admission import record_deliveries
        from hub.export import export_reports

        codes = [self.resolve_township(t) for t in townships] if townships else None
        engine = self.query_engine()
        results = export_reports(
            self.db,
            engine=engine,
            reports=reports,
            townships=codes,
            ref_date=ref_date or date.today(),
            out_dir=Path(out_dir or self.home / "out"),
            progress=progress,
        )
        record_deliveries(self.db, results, ref_date or date.today())  # the burden ledger
        return results

    # -- report admission (hub/admission, docs/admission.md) ------------------------------------------
    def admission_submit(
        self, path: Path, *, department: str, by: str, title: str | None = None, period: str | None = None
    ) -> dict[str, Any]:
        from hub import admission

        return admission.submit(
            self.db,
            self.schema,
            Path(path),
            department=department,
            by=by,
            divisions=self.divisions(),
            title=title,
            period=period,
        )

    def admission_review(self, draft_id: int) -> dict[str, Any]:
        from hub import admission

        return admission.review(self.db, self.schema, draft_id, divisions=self.divisions())

    def admission_decide(self, draft_id: int, decision: str, *, reason: str, by: str) -> dict[str, Any]:
        from hub import admission

        return admission.decide(
            self.db, self.schema, draft_id, decision, reason=reason, by=by, divisions=self.divisions()
        )

    def burden(self) -> dict[str, Any]:
        from hub import admission

        return admission.burden_ledger(self.db)

    # -- exchange: snapshots per data version, the changes feed (docs/exchange.md) ---------------------
    def report_file(self, report_id: str, township: str | None, ref_date: date) -> Any:
        """A report's file at the store's current data version, computed once and then served from
        the content-addressed cache (:mod:`hub.exchange.snapshot`): ``Snapshot`` with ``meta["file"]``."""
        from hub.exchange.snapshot import snapshot

        return snapshot(
            self.db,
            self.home,
            report_id,
            township,
            ref_date,
            with_file=True,
            compute_lock=self._unit_lock,
            engine=self.query_engine,
        )

    def changes(self, report_id: str, township: str | None, since: str | None, ref_date: date) -> Any:
        """What changed in a report since a cursor (:func:`hub.exchange.feed.changes`)."""
        from hub.exchange.feed import changes

        return changes(
            self.db,
            self.home,
            report_id,
            township,
            since,
            ref_date,
            compute_lock=self._unit_lock,
            engine=self.query_engine,
        )

    def check_mappings(self, directory: Path | None = None) -> list[Any]:
        from hub.export import check_mappings

        return check_mappings(directory)

    # -- the main job ----------------------------------------------------------------------------
    def run(
        self,
        directory: Path,
        *,
        ref_date: date | None = None,
        out_dir: Path | None = None,
        link: bool = True,
        progress: Progress | None = None,
        columns: Mapping[str, Mapping[str, str | None]] | None = None,
    ) -> dict[str, Any]:
        """Load DIR/divisions.csv if present, ingest every spreadsheet in DIR, merge, export every
        report, and summarise (including the burden figure). Files held for their columns are
        counted and named; the rest goes on."""
        directory = Path(directory)
        if not directory.is_dir():
            raise HubError(f"目录不存在：{directory}", file=str(directory))
        ref = ref_date or date.today()
        started = datetime.now()
        divisions = directory / "divisions.csv"
        if divisions.exists():
            self.load_divisions(divisions)
        files = sorted(
            p
            for p in directory.rglob("*")
            if p.is_file()
            and p.suffix.lower() in LEDGER_SUFFIXES
            and p.name != "divisions.csv"
            and not p.name.startswith(("~$", "."))
        )
        clock = perf_counter()
        with self._unit("运行"), collecting() as spans:
            files_reports, copies, results, merged, timings = self._run(
                files, ref, out_dir, link, progress, columns, clock
            )
        timings.update(spans)  # the steps' own split (hub.timings): link, link.train, spark.publish…
        if progress:
            progress("", 1, 1)
        typed = int(self.db.scalar(_TYPED_CELLS_SQL) or 0)
        delivered = sum(r.cells for r in results)
        served = sum(r.model_cells for r in results)
        return {
            "files": len(files_reports),
            "refused": sum(1 for r in files_reports if r.status == "refused"),
            "unchanged": sum(1 for r in files_reports if r.status == "unchanged"),
            "held_files": sum(1 for r in files_reports if r.status == "held"),
            "rows": sum(r.rows for r in files_reports),
            "accepted": sum(r.accepted for r in files_reports),
            "rejected": sum(r.rejected for r in files_reports),
            "held": sum(r.held for r in files_reports),
            "persons": merged.persons,
            "households": merged.households,
            "businesses": merged.businesses,
            "conflicts": merged.conflicts,
            "reports_written": sum(1 for r in results if r.written),
            "reports_refused": sum(1 for r in results if not r.written),
            "report_problems": [p for r in results for p in r.problems],
            "cells_typed": typed,
            "cells_delivered": delivered,
            "cells_from_model": served,
            "reuse_rate": round(served / delivered, 4) if delivered else 0.0,
            "delivered_per_typed": round(delivered / typed, 2) if typed else 0.0,
            "seconds": round((datetime.now() - started).total_seconds(), 2),
            "timings": {k: round(v, 2) for k, v in timings.items()},
            "file_reports": [r.to_dict() for r in files_reports],
            "reports": [_result_dict(r) for r in results],
            "warnings": list(self.warnings),
        }

    def _run(
        self,
        files: list[Path],
        ref: date,
        out_dir: Path | None,
        link: bool,
        progress: Progress | None,
        columns: Mapping[str, Mapping[str, str | None]] | None,
        clock: float,
    ) -> tuple[list[FileReport], _Copies, list[Any], Any, dict[str, float]]:
        # The annotated copies are written by a worker process while the store is merged and the
        # reports exported (DuckDB work, on both cores); "annotate" is the time still waited after.
        files_reports, copies = self._ingest(
            files, None, ref, None, True, link, progress, workers=1, columns=columns
        )
        try:
            timings = {"ingest": perf_counter() - clock}
            clock = perf_counter()
            merged = self.merge()
            timings["merge"] = perf_counter() - clock
            if progress:
                progress("导出", 0, 1)
            clock = perf_counter()
            results = self.export(ref_date=ref, out_dir=out_dir)
            timings["export"] = perf_counter() - clock
            clock = perf_counter()
            copies.finish(progress)
            timings["annotate"] = perf_counter() - clock
        finally:
            copies.cancel()
            for sid in copies.owed:
                self._copying.pop(sid, None)
        return files_reports, copies, results, merged, timings


_STATE_LABEL = {"stored": "数据已入库，人员比对未完成", "linked": "人员比对已完成，标注文件未生成"}


def _final_name(path: Path) -> Path:
    """``X_批注.partial.xlsx`` → ``X_批注.xlsx`` (the writer may have changed the suffix)."""
    name = path.name
    at = name.rfind(PARTIAL + ".")
    return path.with_name(name[:at] + name[at + len(PARTIAL) :]) if at >= 0 else path


def _drop_broken_model(path: Path) -> None:
    """A linkage model file cut short (a kill while it was saved) is removed: the next run trains it
    again from the same records (training is seeded), instead of failing on it forever."""
    import json

    if not path.is_file():
        return
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        path.unlink(missing_ok=True)


# Cells the clerks typed once: every non-empty cell of a mapped column of every submitted file.
_TYPED_CELLS_SQL = "SELECT coalesce(sum(cells_typed), 0) FROM hub_submissions"


def _result_dict(result: Any) -> dict[str, Any]:
    return {
        "report": result.report,
        "department": result.department,
        "township": result.township,
        "township_name": result.township_name,
        "path": str(result.path) if result.path else None,
        "written": result.written,
        "records": result.records,
        "cells": result.cells,
        "cells_from_model": result.model_cells,
        "problems": list(result.problems),
    }


def _finding_item(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "sheet": f["sheet"],
        "row": f["row_no"],
        "column": f["column_name"],
        "value": f["value"],
        "code": f["code"],
        "message": f["message"],
    }


def _held_report(path: Path, staged: StagedFile, schema: Schema) -> FileReport:
    """A file held whole for the clerk's column step: every data row counted as held."""
    from hub.ingest.columns import describe

    rows = staged.held_rows + sum(s.data.num_rows for s in staged.sheets)
    sheets = [
        {
            "sheet": h.sheet,
            "rows": h.rows,
            "layout": h.layout,
            "reason": h.reason,
            "columns": [describe(c, schema) for c in h.columns],
        }
        for h in staged.held
    ]
    reasons = "；".join(f"工作表“{h.sheet}”：{h.reason}" for h in staged.held)
    return FileReport(
        file=str(path),
        status="held",
        warnings=list(staged.notes),
        rows=rows,
        held=rows,
        held_sheets=sheets,
        skipped_sheets=[{"sheet": s, "reason": r} for s, r in staged.skipped_sheets],
        message=f"{path.name}：{rows} 行数据暂未导入，等待确认列。{reasons}。"
        f"请在上传页确认各列，或运行 hub columns {path.name} 生成列映射，改好后用 hub ingest --columns 导入。",
    )


def _file_report(path: Path, staged: Any, results: list[Any], divisions: Any, schema: Schema) -> FileReport:
    """A freshly validated file; its counts and findings are filled from the store by ``_refresh``."""
    from hub.ingest.columns import describe, layout_key

    township = results[0][0].township_code if results else None
    unused = [
        {"sheet": s.sheet, "column": c.header}
        for s, _ in results
        for c in s.columns
        if c.field is None and c.header and not c.held
    ]
    held = [
        {"sheet": s.sheet, "layout": layout_key(x.header for x in s.columns), **describe(c, schema)}
        for s, _ in results
        for c in s.columns
        if c.held
    ]
    return FileReport(
        file=str(path),
        status="validated",
        township=township,
        township_name=divisions.name_of(township) if township else None,
        kind=",".join(sorted({s.kind for s, _ in results})),
        skipped_sheets=[{"sheet": s, "reason": r} for s, r in staged.skipped_sheets],
        unused_columns=unused,
        held_columns=held,
    )

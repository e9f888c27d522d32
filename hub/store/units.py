"""The store's single writer, shared fairly: units of work wait their turn lightest first.

A process writes the store one *unit* at a time (an ingest's storing and linkage, the recording of its
annotated copies, a merge, a withdrawal: :meth:`hub.facade.Hub._unit`). With a plain lock the next
unit is whoever the scheduler wakes, often the thread that just released it: one township's
200,000-row upload then runs its units back to back while another township's 500-row upload waits
for all of them. :class:`UnitLock` hands the store, whenever it is free, to the waiting unit of the
smallest *weight* (the cells of the upload it belongs to: :func:`weighing`; 0 for everything else —
a CLI command, a page's write), ties to the job that started first (so a job's later units — its
copies' record, its merge — go before the first unit of a job that started after it, and jobs
finish one after another rather than all at the end), then in arrival order. A unit that has waited longer than
``patience`` seconds goes before any lighter one (in arrival order), so a large upload is delayed
by a stream of small ones, never starved. Reentrant: a unit that opens another (a withdrawal links
and merges) holds the store throughout.

:class:`Together` is the *group commit* over that lock: requests of the same kind that wait for the
store while another unit holds it (the ingests of four townships' 500-row uploads arriving together,
their merges) are done in one unit by the first of them to get the store: their files validated and
stored one by one, then **one** entity resolution and **one** merge for all of them instead of one
each. Each request still gets its own result (or its own error) back in its own thread.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

_WEIGHT: contextvars.ContextVar[tuple[int, int]] = contextvars.ContextVar("hub_unit_weight", default=(0, 0))
_JOBS = itertools.count(1)  # the order jobs started weighing in

log = logging.getLogger("hub.units")

#: Seconds after which a waiting unit goes before lighter ones (``patience``).
PATIENCE_S = 120.0


@contextlib.contextmanager
def weighing(cells: int) -> Iterator[None]:
    """The units this thread (context) opens inside the block weigh ``cells``: an upload job's cells."""
    token = _WEIGHT.set((max(0, int(cells)), next(_JOBS)))
    try:
        yield
    finally:
        _WEIGHT.reset(token)


@dataclass(order=True)
class _Ticket:
    weight: int
    job: int
    seq: int
    since: float = field(compare=False)


class UnitLock:
    """A reentrant lock whose waiters are served lightest first (see the module doc)."""

    def __init__(self, patience: float = PATIENCE_S) -> None:
        self.patience = patience
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._waiting: list[_Ticket] = []
        self._seq = itertools.count()

    def _next(self) -> _Ticket:
        """The waiter to serve: the longest-waiting one past ``patience``, else the lightest."""
        now = time.monotonic()
        overdue = [t for t in self._waiting if now - t.since > self.patience]
        return min(overdue, key=lambda t: t.seq) if overdue else min(self._waiting)

    def acquire(self, give_up: Callable[[], bool] | None = None) -> bool:
        """Wait for the store (lightest first); with ``give_up``, stop waiting and return False as
        soon as it is true (checked whenever the store is released: another unit did the work)."""
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return True
            ticket = _Ticket(*_WEIGHT.get(), next(self._seq), time.monotonic())
            self._waiting.append(ticket)
            try:
                while self._owner is not None or self._next() is not ticket:
                    if give_up is not None and give_up():
                        return False
                    # woken on every release; the timeout lets a waiter's patience run out
                    self._cond.wait(timeout=1.0)
            finally:
                self._waiting.remove(ticket)
                if self._owner is None:  # given up (interrupted): the next one may go
                    self._cond.notify_all()
            self._owner, self._depth = me, 1
            return True

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("cannot release a unit lock held by another thread")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def __enter__(self) -> UnitLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def held(self) -> bool:
        """Whether this thread holds the lock (a unit inside a unit)."""
        with self._cond:
            return self._owner == threading.get_ident()

    def waiting(self) -> int:
        """How many units wait for the store now."""
        with self._cond:
            return len(self._waiting)


@contextlib.contextmanager
def timed(lock: UnitLock, doing: str) -> Iterator[None]:
    """Hold ``lock`` for one unit ``doing``, and log (``hub.units``, INFO) how long the unit waited
    for the store and held it, with its weight and job: where an upload job waits is read from the
    server's log (docs/benchmarks.md, "Load"). A unit opened inside another is not logged again."""
    if lock.held():
        with lock:
            yield
        return
    weight, job = _WEIGHT.get()
    asked = time.monotonic()
    with lock:
        got = time.monotonic()
        try:
            yield
        finally:
            log.info(
                "unit %s: job %d, %d cells, waited %.2f s, held %.2f s, %d waiting",
                doing, job, weight, got - asked, time.monotonic() - got, lock.waiting(),
            )  # fmt: skip


Request = TypeVar("Request")
Result = TypeVar("Result")


@dataclass(eq=False)
class _Entry(Generic[Request]):
    request: Request
    job: int
    done: bool = False
    result: Any = None
    by: int = 0  # the job whose unit did it


class Together(Generic[Request, Result]):
    """Requests of one kind done together, one unit for all that wait (see the module doc).

    ``run(requests)`` does a batch inside the unit and returns one result per request, in order; a
    result that is an exception is raised in that request's thread only; an exception ``run``
    raises is raised in every request of the batch. ``joins(leader, other)``: whether ``other``
    may be done in ``leader``'s unit (say, both small uploads). A request made inside a unit the
    thread already holds is done at once, alone.

    ``coming()`` says a request is on its way (an upload job reading its files): a leader that could
    share its unit waits up to ``linger`` seconds for such requests to arrive before it starts (four
    townships' uploads that start together finish reading within a few hundred milliseconds of
    each other; without it the first would run alone and the other three after it)."""

    def __init__(
        self,
        lock: UnitLock,
        doing: str,
        run: Callable[[Sequence[Request]], Sequence[Result | BaseException]],
        joins: Callable[[Request, Request], bool] = lambda _leader, _other: True,
        linger: float = 0.0,
    ) -> None:
        self.lock, self.doing, self.run, self.joins, self.linger = lock, doing, run, joins, linger
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[_Entry[Request]] = []
        self._coming = 0
        # this context's request on its way (coming()): [True] until it is pending or given up
        self._on_way: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
            f"hub_together_{id(self)}", default=None
        )

    @contextlib.contextmanager
    def coming(self) -> Iterator[None]:
        """A request is on its way while the block runs, until the block submits it (see the class
        doc): counted as coming up to the moment it is pending, so a leader never starts between."""
        mark = [True]
        with self._cond:
            self._coming += 1
        token = self._on_way.set(mark)
        try:
            yield
        finally:
            self._on_way.reset(token)
            with self._cond:
                self._arrived(mark)

    def _arrived(self, mark: list[bool] | None) -> None:
        if mark and mark[0]:
            mark[0] = False
            self._coming -= 1
            self._cond.notify_all()

    def submit(self, request: Request) -> Result:
        weight, job = _WEIGHT.get()
        entry = _Entry(request, job)
        if self.lock.held():  # a unit inside a unit: no one else can go meanwhile
            self._do([entry], job)
            return self._outcome(entry)
        with self._cond:
            self._pending.append(entry)
            self._arrived(self._on_way.get())
            self._cond.notify_all()
        asked = time.monotonic()
        if not self.lock.acquire(give_up=lambda: entry.done):
            self._joined(entry, weight, asked)
            return self._outcome(entry)
        got = time.monotonic()
        batch: list[_Entry[Request]] = []
        try:
            with self._cond:
                if not entry.done and self.linger > 0 and self.joins(request, request):
                    until = got + self.linger  # requests on their way: let them arrive
                    while self._coming > 0 and (left := until - time.monotonic()) > 0:
                        self._cond.wait(left)
                if not entry.done:  # else done by another unit between its release and this acquire
                    batch = [e for e in self._pending if e is entry or self.joins(request, e.request)]
                    self._pending = [e for e in self._pending if e not in batch]
            if batch:
                self._do(batch, job)
        finally:
            self.lock.release()
            if batch:
                log.info(
                    "unit %s: job %d, %d cells, waited %.2f s, held %.2f s, %d waiting, %d request(s)%s",
                    self.doing, job, weight, got - asked, time.monotonic() - got, self.lock.waiting(),
                    len(batch), "" if len(batch) == 1 else f" (jobs {', '.join(str(e.job) for e in batch)})",
                )  # fmt: skip
        if not batch:
            self._joined(entry, weight, asked)
        return self._outcome(entry)

    def _joined(self, entry: _Entry[Request], weight: int, asked: float) -> None:
        log.info(
            "unit %s: job %d, %d cells, done in the unit of job %d, waited %.2f s",
            self.doing, entry.job, weight, entry.by, time.monotonic() - asked,
        )  # fmt: skip

    def _do(self, batch: list[_Entry[Request]], leader: int) -> None:
        try:
            results: Sequence[Any] = self.run([e.request for e in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self.doing}: {len(results)} results for {len(batch)} requests")
        except BaseException as exc:
            results = [exc] * len(batch)
        with self._cond:
            for e, r in zip(batch, results, strict=True):
                e.result, e.done, e.by = r, True, leader

    @staticmethod
    def _outcome(entry: _Entry[Request]) -> Any:
        if isinstance(entry.result, BaseException):
            raise entry.result
        return entry.result

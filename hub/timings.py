"""Where a job's time goes: named spans of wall time, added up per job.

A stage marks its steps (``with span("link.train"): ...``); a job that wants the split collects them
(``with collecting() as spans: ...``) and reports ``spans`` (name → seconds, summed over repeats).
Outside a collection ``span`` costs a clock read and does nothing else. Spans nest: ``spark.publish``
inside ``merge`` is part of it, so the figures are a breakdown, not a sum. The collection lives in a
context variable: a worker thread started with ``contextvars.copy_context().run`` adds to it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from time import perf_counter

_SPANS: ContextVar[dict[str, float] | None] = ContextVar("hub_spans", default=None)


@contextlib.contextmanager
def span(name: str) -> Iterator[None]:
    """Add the wall time of the block to ``name`` in the current collection (if any)."""
    spans = _SPANS.get()
    started = perf_counter()
    try:
        yield
    finally:
        if spans is not None:
            spans[name] = spans.get(name, 0.0) + perf_counter() - started


@contextlib.contextmanager
def collecting() -> Iterator[dict[str, float]]:
    """A fresh collection for the block: the dict fills as spans end (an enclosing collection is
    restored after, and does not see these)."""
    spans: dict[str, float] = {}
    token = _SPANS.set(spans)
    try:
        yield spans
    finally:
        _SPANS.reset(token)

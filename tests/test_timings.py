"""``hub.timings``: the spans a job collects add up per name, nest, reach a worker thread started
with the job's context, and cost nothing outside a collection."""

from __future__ import annotations

import contextvars
import time
from concurrent.futures import ThreadPoolExecutor

from hub.timings import collecting, span


def test_spans_add_up_per_name_and_nest() -> None:
    with collecting() as spans:
        for _ in range(2):
            with span("outer"), span("inner"):
                time.sleep(0.02)
    assert set(spans) == {"outer", "inner"}
    assert 0.04 <= spans["inner"] <= spans["outer"] < 1.0


def test_a_worker_thread_started_with_the_context_adds_to_the_job() -> None:
    def work(name: str) -> None:
        with span(name):
            time.sleep(0.01)

    with collecting() as spans, ThreadPoolExecutor(1) as pool:
        pool.submit(contextvars.copy_context().run, work, "read").result()
        pool.submit(work, "elsewhere").result()  # a thread without the job's context: not counted
    assert set(spans) == {"read"} and 0.01 <= spans["read"] < 0.5


def test_outside_a_collection_nothing_is_kept_and_collections_do_not_leak() -> None:
    with span("alone"):
        pass
    with collecting() as outer:
        with collecting() as inner, span("x"):
            pass
        with span("y"):
            pass
    assert set(inner) == {"x"} and set(outer) == {"y"}

"""What keeps `make test` fast without proving less: a workspace built once for the whole run (all
xdist workers), and property tests that run a share of their examples unless the full profile is on.

``make test-all`` passes ``--hypothesis-profile=full``: every property test then runs its full count.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("full")  # the defaults; the counts come from examples()


def examples(fast: int, full: int) -> int:
    """``max_examples`` of a property test: ``fast`` in `make test`, ``full`` under the full profile."""
    return full if settings.get_current_profile_name() == "full" else fast


def build_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A directory ``build(path)`` fills, built once per test run and shared by every xdist worker
    (the first worker to need it builds it under a file lock; the others wait, then reuse it). It is a
    template: copy it before changing anything in it."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, above every worker's own
    target, done = root / f"shared-{name}", root / f"shared-{name}.built"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():  # built where it stays: a store may hold its own path
            shutil.rmtree(target, ignore_errors=True)  # what a failed build left
            target.mkdir()
            build(target)
            done.touch()
    return target


def group_for_xdist(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put a test's ``xdist_group`` into its node id (``…@group``), which is what `--dist loadgroup`
    sends to one worker. pytest-xdist does this by setting ``item._nodeid``, which pytest 9 no longer
    reads (the id is ``item._id``): without this every group was spread over the workers, and each
    worker built the group's session fixture again. Does nothing when xdist's own renaming worked."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})  # fmt: skip
        if names and "@" not in item.nodeid and hasattr(item, "_id"):
            item._id = type(item._id).parse(f"{item.nodeid}@{'_'.join(names)}")

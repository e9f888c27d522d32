"""The memory of a command and every process it starts (a reader forked by the fork server is a
grandchild: ``wait4`` of the command does not see it), sampled from /proc while it runs."""

from __future__ import annotations

import os
import threading
from types import TracebackType

from hub.ingest.bounded import rss_mb


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


class TreePeak:
    """``with TreePeak(pid) as peak: ...`` then ``peak.one_mb`` (the largest resident memory any one
    process of the tree reached) and ``peak.tree_mb`` (the largest sum over the tree at one sample;
    pages a forked child shares with its parent are counted in both)."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid, self.every = pid, every
        self.one_mb = self.tree_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            todo, total = [self.pid], 0.0
            while todo:
                pid = todo.pop()
                rss = rss_mb(pid)
                self.one_mb, total = max(self.one_mb, rss), total + rss
                todo += _children(pid)
            self.tree_mb = max(self.tree_mb, total)
            self._stop.wait(self.every)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

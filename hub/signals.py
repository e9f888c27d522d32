"""SIGTERM during a command is handled as Ctrl-C: the statement in flight ends, the open transaction
rolls back, worker processes stop, and the store is left as before the step (resumable by the next
run of the same command, docs/operations.md), instead of the process vanishing mid-step."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: What the CLI says when an ingest was interrupted (exit 130).
INTERRUPTED = (
    "已中断：已入库的部分完好，未完成的步骤会在再次运行同一命令时补完（hub status 可查看未完成的报送）。"
)

"""Reading a file in a child process that can be stopped: a hard time limit and a memory ceiling.

calamine reads a sheet in one call that Python cannot interrupt, and the checks of
:mod:`hub.ingest.limits` run only between such calls. So where a read must be stoppable (an upload
job of the web server: its time limit, cancel, shutdown, and a memory ceiling for the whole job),
:func:`read_sheets <hub.ingest.readers.read_sheets>` runs in a child process instead, forked from a
small server process that has already imported the readers (``forkserver``, so a child starts in
milliseconds and never inherits the web server's threads or its store connection). The parent
polls every 50 ms and kills the child when

* the file's read time (``HUB_MAX_READ_SECONDS``) has passed — the file is refused with the
  same message as a read found over the limit between chunks;
* the child's resident memory exceeds ``HUB_JOB_MAX_MEMORY_MB`` (default 1,536 MB) — refused with
  读取所用内存超过上限 and what to do;
* the caller's ``check()`` raises (the job was cancelled, ran out of time or the server is stopping):
  the exception is raised again once the child is gone.

A child that dies on its own (the kernel's out-of-memory killer, an abort in a native library) is a
refused file too, never a crash of the server. ``HUB_READ_IN_CHILD=0`` switches this off. The CLI
reads the same way (:func:`cli_reads`: every command, also one the server runs for it through the
local admin channel). Without :func:`bounded_reads` (the facade called from Python, tests, the
annotated copies) files are read in the calling process.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import IngestError
from hub.ingest import limits

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from hub.ingest.types import RawSheet

POLL_S = 0.05
# What a read imports, imported once in the fork server so that no reader pays for it: __main__ (each
# child would otherwise import the main module again: for `hub`, the whole CLI); pandas (pyarrow
# imports it on the first pa.array() of every fresh process: a second each); the scans and encodings.
PRELOAD = [
    "__main__",
    "hub.ingest.readers",
    "hub.ingest.workbook",
    "hub.ingest.textfile",
    "hub.ingest.xlsxscan",
    "hub.ingest.binscan",
    "hub.ingest.bounded",
    "pyarrow",
    "pyarrow.csv",
    "pyarrow.pandas_compat",
    "pandas",
    "python_calamine",
    "olefile",
    "xml.etree.ElementTree",
    "encodings.gb18030",
    "encodings.utf_8_sig",
    "encodings.utf_16_le",
]


@dataclass(frozen=True)
class ReadBound:
    """How a read of the current context is bounded: ``max_mb`` of resident memory, the file's
    ``seconds``, and ``check`` (called while waiting; whatever it raises stops the read)."""

    max_mb: float
    seconds: float
    check: Callable[[], None] | None = None
    hint: str | None = None  # what to do when the memory ceiling is hit (else the clerk's hint)


_BOUND: contextvars.ContextVar[ReadBound | None] = contextvars.ContextVar("hub_read_bound", default=None)
_CTX_LOCK = threading.Lock()
_CTX: Any = None


def current() -> ReadBound | None:
    return _BOUND.get()


@contextlib.contextmanager
def bounded_reads(
    check: Callable[[], None] | None = None, max_mb: float | None = None, hint: str | None = None
) -> Iterator[None]:
    """Every :func:`~hub.ingest.readers.read_sheets` of this thread (context) inside the block runs
    in a child process bounded by ``max_mb`` (default ``HUB_JOB_MAX_MEMORY_MB``), the file time limit
    (``HUB_MAX_READ_SECONDS``) and ``check``; ``hint``: what to do when the ceiling is hit."""
    if os.environ.get("HUB_READ_IN_CHILD", "").strip() == "0" or os.name != "posix":
        yield  # switched off (or no fork server here): read in this process, limits checked between chunks
        return
    bound = ReadBound(
        max_mb=max_mb or limits.value(limits.JOB_MEMORY_MB),
        seconds=limits.value(limits.SECONDS),
        check=check,
        hint=hint,
    )
    token = _BOUND.set(bound)
    try:
        yield
    finally:
        _BOUND.reset(token)


def cli_reads() -> contextlib.AbstractContextManager[None]:
    """The CLI's reads: bounded like an upload job's (same ceiling, ``HUB_JOB_MAX_MEMORY_MB``), with
    what the person at the command line can do when it is hit. The fork server starts now, in the
    background, while the command opens its store."""
    warm_up()
    return bounded_reads(
        hint=(
            f"请把文件拆小（例如按村）后分别导入；如本机内存充足、确需一次读入，可设置环境变量 "
            f"{limits.JOB_MEMORY_MB.env} 调高上限（当前 {limits.value(limits.JOB_MEMORY_MB):,.0f} MB）。"
        )
    )


def _context() -> Any:
    global _CTX
    with _CTX_LOCK:
        if _CTX is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _CTX = ctx
        return _CTX


def _child(path: str, conn: Connection, env: dict[str, str]) -> None:
    """In the child: read the file and send back the sheets, or the error as plain fields. ``env``:
    the parent's ``HUB_*`` settings now (the fork server holds those of when it started)."""
    from hub.ingest.readers import read_sheets

    _die_with_parent()
    for key in [k for k in os.environ if k.startswith("HUB_")]:
        del os.environ[key]
    os.environ.update(env)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        _yield_if_large(Path(path))
        sheets = read_sheets(Path(path))
    except IngestError as exc:
        fields = {k: getattr(exc, k) for k in ("message", "file", "sheet", "row", "column", "hint", "code")}
        conn.send(("refused", type(exc).__name__, fields, exc.details))
    except BaseException as exc:
        conn.send(("error", type(exc).__name__, str(exc)[:2000], None))
    else:
        conn.send(("ok", sheets, None, None))
    finally:
        conn.close()


def _yield_if_large(path: Path) -> None:
    """A file larger than a daily upload (``HUB_SMALL_UPLOAD_MB``, default 2 MB: the size that
    also gives a job the small jobs' workers in hub/serve/jobs.py) is read at a lower CPU priority
    (nice 10): on a busy server the readers of the daily uploads and the store's work go first, and
    the large read takes the CPU left over."""
    from hub.ingest.limits import MB, SMALL_UPLOAD_MB, value

    try:
        if path.stat().st_size > value(SMALL_UPLOAD_MB) * MB:
            os.nice(10)
    except (OSError, ValueError):  # only a priority: read anyway
        pass


def _die_with_parent() -> None:
    """Linux: the kernel kills this reader when its parent, the fork server, exits, as the fork
    server does once every process holding the write end of its "alive" pipe is gone: the command or
    server that started it, and this reader, which inherits that end (so that it could start
    processes itself) and closes it here. So a reader never outlives the command or server that
    started it, even one killed with ``kill -9``; it would otherwise read on, watched by no one."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the poller's kill is the only bound
        return
    if os.getppid() == 1:  # the fork server was already gone before the line above
        os._exit(1)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (0 when it is gone or /proc is not there)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return 0.0
    return 0.0


def _memory_error(path: Path, found: float, bound: ReadBound) -> limits.LimitError:
    return limits.LimitError(
        f"读取所用内存超过上限：已用 {found:,.0f} MB，上限 {bound.max_mb:,.0f} MB，已停止读取，未导入",
        file=path.name,
        hint=bound.hint or limits.hint(limits.JOB_MEMORY_MB),
        details={"limit": limits.JOB_MEMORY_MB.env, "found": round(found), "allowed": bound.max_mb},
    )


def _crash_error(path: Path, code: int | None) -> IngestError:
    how = f"（信号 {-code}）" if code is not None and code < 0 else f"（退出码 {code}）"
    return IngestError(
        f"读取文件时读取程序异常退出{how}，文件可能已损坏或超出本机可读的大小，未导入",
        file=path.name,
        hint="请用 Excel 或 WPS 打开后另存为 .xlsx 再上传；如仍不行，请拆小（例如按村）后分别上传。",
        code="reader-crashed",
        details={"exitcode": code},
    )


def read_in_child(path: Path, bound: ReadBound) -> list[RawSheet]:
    """:func:`~hub.ingest.readers.read_sheets` of ``path`` in a child process, bounded by ``bound``."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child,
        args=(str(path), child, {k: v for k, v in os.environ.items() if k.startswith("HUB_")}),
        name="hub-reader",
        daemon=True,
    )
    proc.start()
    child.close()
    start = time.monotonic()
    peak = 0.0
    try:
        while True:
            if parent.poll(POLL_S):
                try:
                    kind, a, b, c = parent.recv()
                except (EOFError, OSError):
                    proc.join(5)
                    raise _crash_error(path, proc.exitcode) from None
                break
            if not proc.is_alive():
                if parent.poll(0):
                    continue  # it finished and its answer is waiting
                raise _crash_error(path, proc.exitcode)
            if bound.check is not None:
                bound.check()  # cancel / job time limit / shutdown: raises, the child is killed below
            used = rss_mb(proc.pid or 0)
            peak = max(peak, used)
            if used > bound.max_mb:
                raise _memory_error(path, used, bound)
            spent = time.monotonic() - start
            if spent > bound.seconds:
                raise limits.refuse(limits.SECONDS, math.ceil(spent), path.name)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if kind == "ok":
        sheets: list[RawSheet] = a
        return sheets
    if kind == "refused":
        cls = limits.LimitError if a == "LimitError" else IngestError
        raise cls(**b, details=c or {})
    raise RuntimeError(f"reading {path.name} in a child process failed: {a}: {b}")


def warm_up() -> None:
    """Start the fork server in the background now (the web server does at start-up), so the first
    upload's time limit is not spent on it."""
    if os.name != "posix" or os.environ.get("HUB_READ_IN_CHILD", "").strip() == "0":
        return

    def start() -> None:
        with contextlib.suppress(Exception):
            proc = _context().Process(target=_noop, name="hub-reader-warm-up", daemon=True)
            proc.start()
            proc.join(120)

    threading.Thread(target=start, name="hub-reader-warm-up", daemon=True).start()


def _noop() -> None:
    return None

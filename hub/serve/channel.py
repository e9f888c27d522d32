"""The local admin channel: while ``hub serve`` holds the store, CLI commands run inside it.

DuckDB lets one process write a database file, and the server holds it for its lifetime. So the
server listens on a Unix socket, ``HUB_HOME/run/hub.sock``, in a directory of mode 0700 (the socket
itself 0600), and accepts only processes of its own user (``SO_PEERCRED``). A CLI that finds the
store locked and this socket alive sends its command line (paths made absolute) as one JSON line;
the server runs the same Typer command with its own :class:`~hub.facade.Hub`, one command at a time
(``Database.exclusive``), and streams back ``{"out": …}`` / ``{"err": …}`` lines and finally
``{"exit": code}``. Nothing is exposed on the network; no token exists to steal.

Standard library only: the CLI imports this module on every command that meets a locked store.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import json
import logging
import os
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger("hub.serve")
RUN_DIR = "run"
SOCKET_NAME = "hub.sock"
# A command's output goes back to its own client; other threads keep the server's streams.
_SINK: contextvars.ContextVar[Callable[[str, str], None] | None] = contextvars.ContextVar(
    "hub_channel_sink", default=None
)
Runner = Callable[[list[str], TextIO, TextIO], int]


def socket_path(home: Path) -> Path:
    return Path(home) / RUN_DIR / SOCKET_NAME


@contextlib.contextmanager
def _address(path: Path) -> Iterator[str]:
    """A name for ``path`` short enough for AF_UNIX (108 bytes): through ``/proc/self/fd`` when long."""
    if len(os.fsencode(str(path))) < 100 or not Path("/proc/self/fd").is_dir():
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def connect(home: Path, timeout: float = 2.0) -> socket.socket | None:
    """A connection to the server of ``home``, or None when no server listens there."""
    path = socket_path(home)
    if not hasattr(socket, "AF_UNIX") or not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        with _address(path) as address:
            sock.connect(address)
    except OSError:
        sock.close()
        return None
    sock.settimeout(None)
    return sock


def available(home: Path) -> bool:
    sock = connect(home, timeout=1.0)
    if sock is None:
        return False
    sock.close()
    return True


def run_remote(home: Path, argv: list[str], out: TextIO, err: TextIO) -> int:
    """Send ``argv`` to the server of ``home`` and relay its output; returns the command's exit code
    (70 when the server cannot be reached or the connection breaks)."""
    sock = connect(home)
    if sock is None:
        err.write("错误：无法连接正在运行的 hub serve（本机管理通道）。请确认服务在运行，或稍后再试。\n")
        return 70
    with sock, sock.makefile("rwb") as stream:
        stream.write(json.dumps({"argv": argv}, ensure_ascii=False).encode("utf-8") + b"\n")
        stream.flush()
        for line in stream:
            try:
                msg = json.loads(line)
            except ValueError:
                break
            if "out" in msg:
                out.write(msg["out"])
                out.flush()
            elif "err" in msg:
                err.write(msg["err"])
                err.flush()
            elif "exit" in msg:
                return int(msg["exit"])
    err.write("错误：hub serve 在命令完成前断开了本机管理通道；命令可能未完成，请用 hub status 查看。\n")
    return 70


class _Routed(io.TextIOBase):
    """Stands in for ``sys.stdout`` / ``sys.stderr`` in the server: text written while a channel
    command runs (in its thread) goes to that command's client, everything else where it went."""

    def __init__(self, kind: str, original: TextIO):
        self.kind, self.original = kind, original

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "strict"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False if _SINK.get() is not None else self.original.isatty()

    def write(self, text: str) -> int:  # type: ignore[override]
        sink = _SINK.get()
        if sink is None:
            return self.original.write(text)
        sink(self.kind, text)
        return len(text)

    def flush(self) -> None:
        if _SINK.get() is None:
            self.original.flush()

    def fileno(self) -> int:
        return self.original.fileno()


def _install_routing() -> None:
    if not isinstance(sys.stdout, _Routed):
        sys.stdout = _Routed("out", sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, _Routed):
        sys.stderr = _Routed("err", sys.stderr)  # type: ignore[assignment]


def _peer_uid(conn: socket.socket) -> int | None:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    data = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return int(struct.unpack("3i", data)[1])


class Channel:
    """The server side. ``runner(argv, out, err) -> exit code`` runs one CLI command in this process."""

    def __init__(self, home: Path, runner: Runner):
        self.path = socket_path(home)
        self.runner = runner
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Channel:
        if not hasattr(socket, "AF_UNIX"):
            log.warning("本机管理通道不可用（系统不支持 Unix 套接字）；服务运行时 hub 命令将等待。")
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()  # left by a server that was killed; the store lock proves none runs
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with _address(self.path) as address:
            sock.bind(address)
        os.chmod(self.path, 0o600)
        sock.listen(16)
        self._sock = sock
        _install_routing()
        self._thread = threading.Thread(target=self._accept, name="hub-channel", daemon=True)
        self._thread.start()
        log.info("本机管理通道：%s", self.path)
        return self

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            with contextlib.suppress(OSError):
                self.path.unlink()

    def __enter__(self) -> Channel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while self._sock is not None:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="hub-channel-cmd", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn, conn.makefile("rwb") as stream:
                self._handle(conn, stream)
        except OSError:
            pass  # the client went away; what it asked for has finished or was never started

    def _handle(self, conn: socket.socket, stream: Any) -> None:
        lock = threading.Lock()
        broken = False

        def send(kind: str, text: Any) -> None:
            nonlocal broken
            if broken:
                return
            with lock:
                try:
                    stream.write(json.dumps({kind: text}, ensure_ascii=False).encode("utf-8") + b"\n")
                    stream.flush()
                except OSError:
                    broken = True  # the client went away; the command still finishes

        uid = _peer_uid(conn)
        if uid is not None and uid not in (os.getuid(), 0):
            send("err", "错误：只有运行 hub serve 的系统用户可以使用本机管理通道。\n")
            send("exit", 70)
            return
        try:
            request = json.loads(stream.readline() or b"{}")
            argv = [str(a) for a in request["argv"]]
        except (ValueError, KeyError, TypeError):
            send("err", "错误：本机管理通道收到的请求无法识别。\n")
            send("exit", 2)
            return
        log.info("本机管理通道执行：hub %s", " ".join(argv))
        token = _SINK.set(send)
        try:
            code = self.runner(argv, sys.stdout, sys.stderr)
        except Exception as exc:  # the runner reports hub errors itself; this is the last guard
            log.exception("channel command failed: %s", argv)
            send("err", f"错误：服务执行命令时出现内部错误（{type(exc).__name__}）。\n")
            code = 70
        finally:
            _SINK.reset(token)
        send("exit", code)

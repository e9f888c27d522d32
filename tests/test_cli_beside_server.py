"""The CLI beside a running `hub serve`: every command works, through the server's local admin
channel, with the exit codes it has alone; and beside another command it waits its turn."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE

HUB = Path(sys.executable).parent / "hub"
SMALL = SAMPLE / "青山镇_残疾人台账_2026.xlsx"
LEDGERS = sorted(p for p in SAMPLE.iterdir() if p.suffix in {".xlsx", ".csv"} and p.name != "divisions.csv")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "HUB_HOME": str(home), "GX_ANALYTICS_ENABLED": "False", **extra}


def hub(home: Path, *args: Any, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    """`hub ARGS` as a separate process, the way a second terminal runs it."""
    command = [str(HUB) if HUB.exists() else sys.executable, *([] if HUB.exists() else ["-m", "cli"])]
    return subprocess.run(
        [*command, *map(str, args)],
        env=_env(home, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=home.parent,
    )


class Server:
    """`hub serve` on a free loopback port, its output appended to ``log``, up once its admin channel
    and its login page answer; ``env``: the process environment (by default :func:`_env`)."""

    def __init__(self, home: Path, log: Path, env: dict[str, str] | None = None):
        self.home, self.port = home, _free_port()
        self.log = log.open("a")
        self.proc = subprocess.Popen(
            [str(HUB), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env or _env(home),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text()
            if (home / "run" / "hub.sock").exists() and self._up():
                return
            time.sleep(0.2)
        raise AssertionError("hub serve did not start:\n" + log.read_text())

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/login", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:  # not already gone (a test may have killed it)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    from hub.facade import Hub

    home = tmp_path / "hub-data"
    h = Hub(home)
    h.load_divisions(SAMPLE / "divisions.csv")
    h.close()
    return home


@pytest.fixture
def server(home: Path, tmp_path: Path) -> Iterator[Server]:
    s = Server(home, tmp_path / "serve.log")
    yield s
    s.stop()
    assert not (home / "run" / "hub.sock").exists(), "the channel's socket outlived the server"


def _login(server: Server, name: str, password: str) -> int:
    """Log in on the running server's page; returns the HTTP status of the POST (303 = in)."""
    import re
    from http.cookiejar import CookieJar

    jar = CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(server.url + "/login").read().decode()
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    body = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": found.group(1)})
    try:
        return int(opener.open(server.url + "/login", data=body.encode()).status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _no_lock_error(result: subprocess.CompletedProcess[str]) -> None:
    text = result.stdout + result.stderr
    assert "Could not set lock" not in text and "Conflicting lock" not in text and "Traceback" not in text


def test_cli_works_beside_the_server(server: Server, home: Path) -> None:
    run = home / "run"
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    assert stat.S_IMODE((run / "hub.sock").stat().st_mode) == 0o600

    status = hub(home, "status", "--json")
    _no_lock_error(status)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["townships"] == 2
    assert "hub serve" in status.stderr  # says where the command ran

    added = hub(home, "users", "add", "qs_new", "--role", "clerk", "--township", "青山镇", "--json")
    _no_lock_error(added)
    assert added.returncode == 0, added.stderr
    password = json.loads(added.stdout)["password"]
    assert _login(server, "qs_new", password) == 303  # the server's own store has the account

    listed = hub(home, "users", "list", "--json")
    assert listed.returncode == 0 and "qs_new" in {u["username"] for u in json.loads(listed.stdout)}

    bad = hub(home, "users", "add", "x_dept", "--role", "department", "--dept", "宣传部")
    assert bad.returncode == 1 and "可选：" in bad.stderr  # bad input keeps exit 1

    relative = SMALL.name  # paths are the caller's, resolved before they reach the server
    (home.parent / relative).write_bytes(SMALL.read_bytes())
    ingested = hub(home, "ingest", relative, "--no-link", "--no-annotate", "--json")
    _no_lock_error(ingested)
    assert ingested.returncode in (0, 1), ingested.stderr
    report = json.loads(ingested.stdout)[0]
    assert report["status"] == "ingested" and report["rows"] > 0
    after = json.loads(hub(home, "status", "--json").stdout)
    assert after["submissions"] == 1 and after["rows"] == report["rows"]


def test_a_command_waits_its_turn_then_gives_up_with_exit_70(home: Path) -> None:
    """Another process (not a server) holds the store: a command waits, says so, and either gets
    its turn or gives up with exit 70, never DuckDB's lock error."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.readline()",
            str(home / "hub.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        gave_up = hub(home, "status", HUB_LOCK_TIMEOUT="0.5")
        assert gave_up.returncode == 70, gave_up.stderr
        assert "正在等待服务释放数据库" in gave_up.stderr and "0.5 秒" in gave_up.stderr
        _no_lock_error(gave_up)
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(hub, home, "status", "--json", HUB_LOCK_TIMEOUT="120")
            time.sleep(3)
            assert holder.stdin is not None
            holder.stdin.write("release\n")
            holder.stdin.flush()
            waited = waiting.result()
        assert waited.returncode == 0, waited.stderr
        assert "正在等待" in waited.stderr and json.loads(waited.stdout)["townships"] == 2
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_cli_beside_the_server_every_time(server: Server, home: Path) -> None:
    """Every ledger ingested (with linkage), accounts added and listed, status read, several rounds,
    some of them at the same time, while the web pages stay up."""
    for i, ledger in enumerate(LEDGERS):
        results = []
        with ThreadPoolExecutor(3) as pool:
            jobs = [
                pool.submit(hub, home, "ingest", ledger, "--json"),
                pool.submit(
                    hub, home, "users", "add", f"clerk{i}", "--role", "clerk", "--township", "城关镇"
                ),
                pool.submit(hub, home, "status", "--json"),
            ]
            results = [j.result() for j in jobs]
        for r in results:
            _no_lock_error(r)
        ingest, added, status = results
        assert ingest.returncode in (0, 1), ingest.stderr
        assert json.loads(ingest.stdout)[0]["status"] in ("ingested", "unchanged")
        assert added.returncode == 0, added.stderr
        assert status.returncode == 0, status.stderr
        assert server._up()
    final = json.loads(hub(home, "status", "--json").stdout)
    assert final["submissions"] == len(LEDGERS)
    names = {u["username"] for u in json.loads(hub(home, "users", "list", "--json").stdout)}
    assert {f"clerk{i}" for i in range(len(LEDGERS))} <= names
    again = hub(home, "ingest", LEDGERS[0], "--json")
    assert json.loads(again.stdout)[0]["status"] == "unchanged"

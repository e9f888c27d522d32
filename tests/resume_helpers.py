"""What the resume tests compare: a store, table by table, and its annotated copies; and how they
stop `hub ingest` at a step (the test-only pause hook, hub/testhook.py) to kill it there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HUB = Path(sys.executable).parent / "hub"
VOLATILE_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


def store_snapshot(home: Path) -> dict[str, Any]:
    """Every hub table's rows (sorted; timestamps left out, the workspace path made relative, doubles
    rounded), the scratch tables left, the annotated copies (name → every cell value, opened with
    openpyxl) and the linkage model."""
    import openpyxl

    from hub.store.db import Database

    db = Database(home / "hub.duckdb", ddl=False)  # the config of any connection the test holds
    try:
        tables = [
            r[0]
            for r in db.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        out: dict[str, Any] = {"scratch": [t for t in tables if t.startswith("__")]}
        # hub_data_versions counts merges (docs/exchange.md): a resumed command may merge once more
        for table in (t for t in tables if t.startswith("hub_") and t != "hub_data_versions"):
            cols = []
            for name, kind in db.columns(table):
                if kind in VOLATILE_TYPES:
                    continue
                q = f'"{name}"'
                if kind == "DOUBLE":
                    q = f"round({q}, 9)"
                elif kind != "VARCHAR":
                    q = f"CAST({q} AS VARCHAR)"
                else:
                    q = f"replace({q}, '{home}', '<home>')"
                cols.append(q)
            rows = db.rows(f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL")
            out[table] = rows
    finally:
        db.close()
    copies: dict[str, Any] = {}
    for path in sorted((home / "annotated").glob("*")):
        assert path.stat().st_size > 0, path
        wb = openpyxl.load_workbook(path, read_only=True)
        copies[path.name] = {
            ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
        }
        wb.close()
    out["annotated"] = copies
    model = home / "linkage" / "model.json"
    out["model"] = json.loads(model.read_text(encoding="utf-8")) if model.exists() else None
    if out["model"]:
        out["model"].pop("linker_uid", None)  # Splink's random id of the linker object, new every run
    return out


def assert_same_store(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got["scratch"] == [], got["scratch"]
    assert sorted(got) == sorted(want)
    for key in want:
        if isinstance(want[key], list):
            assert len(got[key]) == len(want[key]), (key, len(got[key]), len(want[key]))
        assert got[key] == want[key], key


def hub_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_TEST_")}
    return {**env, "HUB_HOME": str(home), "GX_ANALYTICS_ENABLED": "False", **extra}


def hub(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HUB), *args], env=hub_env(home), capture_output=True, text=True, timeout=timeout
    )


def kill_at(home: Path, step: str, *args: str, timeout: float = 300) -> None:
    """Run ``hub ARGS`` until it reaches ``step`` (the pause hook), then SIGKILL it."""
    flag = home.parent / f"paused-{step}"
    flag.unlink(missing_ok=True)
    env = hub_env(home, HUB_TEST_PAUSE_AT=step, HUB_TEST_PAUSE_FILE=str(flag))
    proc = subprocess.Popen(
        [str(HUB), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + timeout
    while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    reached = flag.exists()
    os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate()
    assert reached, f"never paused at {step} (exit {proc.returncode}): {err[-2000:]}"


def kill_after(home: Path, seconds: float, *args: str) -> bool:
    """Run ``hub ARGS`` and SIGKILL it after ``seconds``; True when it was still running."""
    proc = subprocess.Popen(
        [str(HUB), *args], env=hub_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True

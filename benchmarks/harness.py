"""Shared helpers for the benchmark scripts: time a command in a child process and read its peak RSS.

Peak RSS is the larger of the child's own high-water mark (``VmHWM`` of ``/proc/<pid>/status``, read
every 0.1 s: the kernel's peak of the command's own memory since its ``exec``) and the sum over the
child and every process under it, sampled every 0.1 s from ``/proc``: ``hub ingest`` / ``hub run``
write annotated copies in worker processes, which run beside the main one. (``wait4``'s ``ru_maxrss``
is not used: Linux carries it across ``exec``, so a command started by a benchmark that had grown to
1.7 GB reported 1.7 GB whatever it used itself.)
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUB = str(Path(sys.executable).parent / "hub")


@dataclass
class Measured:
    label: str
    seconds: float
    peak_mb: float
    returncode: int

    def line(self) -> str:
        return f"| {self.label} | {self.seconds:.2f} s | {self.peak_mb:,.0f} MB |"


def _tree_rss_mb(root: int) -> float:
    """RSS of ``root`` and all its descendants now (MB), from /proc/<pid>/stat (0 where unreadable)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(fields[21])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, pp in parent.items() if pp == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(p, 0) for p in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _hwm_mb(pid: int) -> float:
    """The process's own peak resident memory since its exec (``VmHWM``), MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(
    label: str, argv: list[str], env: dict[str, str] | None = None, stdout: Path | None = None
) -> Measured:
    """Run argv in a fresh process and return wall time and peak RSS (see the module docstring);
    ``stdout``: a file that keeps what the command printed (its ``--json`` summary)."""
    started = time.perf_counter()
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    # stderr to a file, not a pipe: a child that writes more than a pipe holds (Spark's log) would block
    err_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=out, stderr=err_file)
    tree_peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not done.wait(0.1):
            tree_peak = max(tree_peak, _tree_rss_mb(proc.pid), _hwm_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if stdout:
        out.close()  # type: ignore[union-attr]
    code = os.waitstatus_to_exitcode(status)
    err_file.seek(0)
    err = err_file.read().decode("utf-8", "replace")
    err_file.close()
    if code not in (0, 1):
        raise SystemExit(f"{label}: exit {code}\n{err[-2000:]}")
    # a command over before the first sample: wait4's figure (the parent's size at fork at most)
    return Measured(label, elapsed, tree_peak or usage.ru_maxrss / 1024, code)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(rows: list[Measured]) -> None:
    """The machine line and a Markdown table, as docs/benchmarks.md records them."""
    print(f"Machine: {machine()}\n")
    print("| what | time | peak RSS |\n|---|---|---|")
    for r in rows:
        print(r.line())


def generate_ledgers(out: Path, persons: int, townships: int, fmt: str) -> Path:
    """Ledgers from benchmarks/gen_ledgers.py (seeded, vectorised) into ``out``; returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gen_ledgers.py"),
            "--persons",
            str(persons),
            "--townships",
            str(townships),
            "--out",
            str(out),
            "--format",
            fmt,
        ],
        check=True,
    )
    return out

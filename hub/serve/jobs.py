"""Uploaded files are ingested in the background, one batch at a time (ingest writes are
transactions on one store), while the browser polls the job for progress."""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.facade import Hub

log = logging.getLogger("hub.serve")
KEEP_JOBS = 500


@dataclass
class Job:
    id: str
    username: str
    township: str
    files: list[str]
    status: str = "queued"  # queued | running | merging | done | failed
    columns: dict[str, dict[str, str | None]] | None = None  # confirmed on the column step
    done: int = 0
    current: str = ""
    reports: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        shown = [r for r in self.reports if r.get("status") != "refused"]
        return {
            "id": self.id,
            "confirmed": self.columns is not None,
            "totals": {
                k: sum(int(r.get(k) or 0) for r in shown) for k in ("rows", "accepted", "rejected", "held")
            },
            "status": self.status,
            "done": self.done,
            "total": len(self.files),
            "current": self.current,
            "files": self.files,
            "message": self.message,
            "reports": [
                {
                    k: r.get(k)
                    for k in (
                        "file",
                        "status",
                        "rows",
                        "accepted",
                        "rejected",
                        "held",
                        "held_sheets",
                        "held_columns",
                        "upload",
                        "submission_id",
                        "message",
                        "township",
                        "township_name",
                        "kind",
                    )
                }
                | {
                    "errors": len(r.get("errors") or []),
                    "warnings": len(r.get("warnings") or []),
                    "name": Path(str(r.get("file"))).name,
                }
                for r in self.reports
            ],
        }


class Jobs:
    def __init__(self, hub: Hub):
        self.hub = hub
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-ingest")

    def submit(
        self,
        username: str,
        township: str,
        paths: list[Path],
        display: list[str],
        refused: list[dict[str, Any]] | None = None,
        columns: dict[str, dict[str, str | None]] | None = None,
    ) -> Job:
        """Queue ``paths`` (shown to the clerk as ``display``); ``refused`` lists files turned away
        before ingest (too large, wrong type), reported in the same job. ``columns``: the column
        mapping the clerk confirmed, by layout (the column step re-runs a held upload with it)."""
        job = Job(
            id=secrets.token_urlsafe(12),
            username=username,
            township=township,
            columns=columns,
            files=[*(str(r["file"]) for r in refused or []), *display],
            reports=list(refused or []),
        )
        job.done = len(job.reports)
        with self._lock:
            self._jobs[job.id] = job
            if len(self._jobs) > KEEP_JOBS:
                for old in list(self._jobs)[: len(self._jobs) - KEEP_JOBS]:
                    self._jobs.pop(old, None)
        self._pool.submit(self._run, job, paths, display)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, paths: list[Path], display: list[str]) -> None:
        names = dict(zip((p.name for p in paths), display, strict=True))

        before = list(job.reports)

        def progress(label: str, done: int, total: int) -> None:
            job.done, job.current = len(before) + done, names.get(label, label)

        job.status = "running"
        try:
            reports = (
                self.hub.ingest(
                    paths,
                    township=job.township,
                    submitted_by=job.username,
                    progress=progress,
                    columns=job.columns,
                )
                if paths
                else []
            )
            job.reports = before + [_shown(r.to_dict(), names) for r in reports]
        except Exception as exc:  # never a traceback to the browser; the log keeps it
            log.exception("ingest job %s failed", job.id)
            job.status = "failed"
            job.message = f"处理时发生系统错误（{type(exc).__name__}），文件未能全部导入。请联系数据管理员。"
            return
        if any(r.status == "ingested" for r in reports):
            job.status = "merging"
            try:
                self.hub.merge()
            except Exception as exc:
                log.exception("merge after ingest job %s failed", job.id)
                job.message = (
                    f"文件已导入并校验，但合并（一人一码）时发生系统错误（{type(exc).__name__}），"
                    "部门报表暂未更新。请联系数据管理员。"
                )
        job.status = "done"

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def _shown(report: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Show the clerk's own file name, not the stored copy's; a held file keeps the id of its stored
    upload (its folder under ``uploads/<township>/``) for the column step."""
    full = str(report.get("file"))
    stored = Path(full).name
    if report.get("status") == "held":
        report["upload"] = Path(full).parent.name
    report["file"] = names.get(stored, stored)
    if report.get("message"):
        report["message"] = (
            str(report["message"]).replace(full, report["file"]).replace(stored, report["file"])
        )
    return report

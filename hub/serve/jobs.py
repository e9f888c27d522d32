"""Upload jobs: a fair queue over a bounded pool of workers, cancel, a time limit, graceful stop.

* **Fair.** Each township has its own queue; a free worker takes the next job of the township whose
  turn it is (round robin), never a second job of a township already being served. So one
  township's long job occupies one worker, and the other townships' jobs go past it.
* **Small jobs have a lane.** Besides the ``workers`` that take any job, ``small_workers``
  (``HUB_JOB_SMALL_WORKERS``, default 3) take only jobs whose files are small (``HUB_SMALL_UPLOAD_MB``
  in all, default 2 MB: a village's daily ledger), so the daily uploads of other townships never wait
  for a worker behind large files being read.
* **Steps.** A job reads its files first (:meth:`hub.facade.Hub.stage`, no store writes, in
  parallel with other jobs), then ingests them (one unit of store work: validation, storing,
  linkage), writes the annotated copies (outside the store; recording them is a short unit), then
  merges (another unit). The store serialises the units, so a job waits only for the unit in
  flight, not for a whole long job; and the store goes to the *lightest* waiting unit first (a
  job's units weigh its cells, :mod:`hub.store.units`), so a township's 500-row upload goes between
  the steps of another's 200,000-row one instead of after all of them.
* **Stop.** Cancel, the time limit (``HUB_JOB_TIME_LIMIT_S``) and shutdown are honoured at the next
  step boundary (after reading, before each file is stored, before linkage, between annotated
  copies, before the merge). A job stopped before anything was stored leaves the store untouched;
  one stopped after a file was stored withdraws what it stored (:meth:`hub.facade.Hub.withdraw`,
  the audit row kept), so the store holds what it held before the job. On shutdown a job still in
  a store statement after a grace period is interrupted (the transaction rolls back; the ingest is
  finished by the next one, docs/operations.md) and queued jobs are marked for the clerk to upload
  again (docs/web.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.ingest.limits import MB, SMALL_UPLOAD_MB, value

if TYPE_CHECKING:
    from hub.facade import Hub

log = logging.getLogger("hub.serve")
KEEP_JOBS = 500

#: What the clerk reads for each state of a job.
STATUS_TEXT = {
    "queued": "排队等候",
    "reading": "正在读取文件",
    "running": "正在校验入库",
    "linking": "正在比对人员",
    "merging": "正在合并（一人一码）",
    "withdrawing": "正在撤回",
    "stopping": "正在取消",
    "done": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
    "timeout": "超时已停止",
    "interrupted": "服务停止，未处理",
}
FINAL = frozenset({"done", "failed", "cancelled", "timeout", "interrupted"})
_STOPPED_TEXT = {
    "cancel": "已按您的要求取消。",
    "timeout": "处理时间超过上限（{limit} 秒），已停止。请把文件按村拆小后重新上传，或联系数据管理员。",
    "shutdown": "服务停止，任务未完成。请在服务恢复后重新上传这些文件。",
}
_STATUS_OF_STOP = {"cancel": "cancelled", "timeout": "timeout", "shutdown": "interrupted"}


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class _Stopped(Exception):
    """Raised at a step boundary of a job asked to stop (``reason``: cancel | timeout | shutdown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Job:
    id: str
    username: str
    township: str
    files: list[str]
    status: str = "queued"  # a key of STATUS_TEXT
    columns: dict[str, dict[str, str | None]] | None = None  # confirmed on the column step
    done: int = 0
    current: str = ""
    reports: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    paths: list[Path] = field(default_factory=list)
    display: list[str] = field(default_factory=list)
    created: datetime = field(default_factory=datetime.now)
    started: datetime | None = None
    finished: datetime | None = None
    stop: str | None = None  # why the job was asked to stop
    waiting: int = 0  # jobs ahead of this one in its township's queue (while queued)
    withdraw: int | None = None  # a withdrawal job: the submission to withdraw
    reason: str = ""  # why (a withdrawal job)
    size: int = 0  # bytes of its files (the small jobs' lane)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def to_dict(self) -> dict[str, Any]:
        shown = [r for r in self.reports if r.get("status") != "refused"]
        return {
            "id": self.id,
            "confirmed": self.columns is not None,
            "totals": {
                k: sum(int(r.get(k) or 0) for r in shown) for k in ("rows", "accepted", "rejected", "held")
            },
            "status": self.status,
            "status_text": STATUS_TEXT.get(self.status, self.status),
            "final": self.final,
            "cancellable": not self.final
            and self.stop is None
            and (self.withdraw is None or self.status == "queued"),
            "withdraw": self.withdraw,
            "waiting": self.waiting,
            "done": self.done,
            "total": len(self.files),
            "current": self.current,
            "files": self.files,
            "message": self.message,
            "created": f"{self.created:%Y-%m-%d %H:%M:%S}",
            "seconds": round(
                ((self.finished or datetime.now()) - (self.started or self.created)).total_seconds()
            ),
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
                        "resubmission",
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
    """The upload jobs of one server: per-township queues served round robin by ``workers``
    threads (``HUB_JOB_WORKERS``, default 3: while one reads or waits, another's unit holds the
    store; measured in docs/benchmarks.md, "Load") and ``small_workers`` more that take only small
    jobs (see the module doc); each job limited to ``time_limit`` seconds
    (``HUB_JOB_TIME_LIMIT_S``, default 1800)."""

    def __init__(
        self,
        hub: Hub,
        workers: int | None = None,
        time_limit: float | None = None,
        small_workers: int | None = None,
    ):
        self.hub = hub
        self.workers = max(1, int(workers or _env_number("HUB_JOB_WORKERS", 3)))
        self.small_workers = max(
            0, int(small_workers if small_workers is not None else _env_number("HUB_JOB_SMALL_WORKERS", 3))
        )
        self.small_bytes = int(value(SMALL_UPLOAD_MB) * MB)
        self.time_limit = float(time_limit or _env_number("HUB_JOB_TIME_LIMIT_S", 1800))
        self._jobs: dict[str, Job] = {}
        self._queues: dict[str, deque[Job]] = {}
        self._turn: deque[str] = deque()  # townships in round-robin order
        self._busy: dict[str, Job] = {}  # township -> its running job
        self._cond = threading.Condition()
        self._closing = False
        self._threads = [
            threading.Thread(target=self._work, name=f"hub-job-{i}", daemon=True) for i in range(self.workers)
        ] + [
            threading.Thread(target=self._work, args=(True,), name=f"hub-job-small-{i}", daemon=True)
            for i in range(self.small_workers)
        ]
        for thread in self._threads:
            thread.start()

    # -- the queue --------------------------------------------------------------------------------
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
            paths=list(paths),
            display=list(display),
            size=sum(p.stat().st_size for p in paths if p.is_file()),
        )
        job.done = len(job.reports)
        return self._enqueue(job)

    def submit_withdraw(
        self, username: str, township: str, submission_id: int, reason: str, file_name: str
    ) -> Job:
        """Queue the withdrawal of a submission (:meth:`hub.facade.Hub.withdraw`): it re-links and
        re-merges the store, so it waits its turn like an upload of the submission's township."""
        job = Job(
            id=secrets.token_urlsafe(12),
            username=username,
            township=township,
            files=[file_name],
            withdraw=submission_id,
            reason=reason,
        )
        return self._enqueue(job)

    def _enqueue(self, job: Job) -> Job:
        with self._cond:
            self._jobs[job.id] = job
            for old in [k for k, j in self._jobs.items() if j.final][: max(0, len(self._jobs) - KEEP_JOBS)]:
                self._jobs.pop(old, None)
            if not job.paths and job.withdraw is None:
                job.status, job.finished = "done", datetime.now()
            elif self._closing:
                self._mark_interrupted(job)
            else:
                if job.township not in self._queues:
                    self._queues[job.township] = deque()
                    self._turn.appendleft(job.township)  # never served: first in turn
                self._queues[job.township].append(job)
                self._renumber(job.township)
                self._cond.notify_all()  # a small-lane worker may not take it: wake every one
        return job

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        """Ask a job to stop: a queued job is dropped at once, a running one stops at its next step
        boundary and withdraws what it had stored. A finished job is left as it is."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or job.final or job.stop is not None:
                return job
            queue = self._queues.get(job.township)
            if job.status == "queued" and queue is not None and job in queue:
                queue.remove(job)
                self._renumber(job.township)
                job.stop, job.status, job.finished = "cancel", "cancelled", datetime.now()
                job.message = _STOPPED_TEXT["cancel"] + "文件未导入，数据库未作任何改动。"
            else:
                job.stop, job.status = "cancel", "stopping"
            return job

    def _renumber(self, township: str) -> None:
        for i, queued in enumerate(self._queues.get(township, ())):
            queued.waiting = i + (1 if township in self._busy else 0)

    def _next(self, small_only: bool = False) -> Job | None:
        """The next job to run, round robin over townships without a running job (``small_only``: a
        job of the small jobs' lane); None when closing."""
        with self._cond:
            while not self._closing:
                for town in list(self._turn):  # the township served longest ago first
                    queue = self._queues.get(town)
                    if (
                        queue
                        and town not in self._busy
                        and (not small_only or queue[0].size <= self.small_bytes)
                    ):
                        self._turn.remove(town)
                        self._turn.append(town)
                        job = queue.popleft()
                        self._busy[town] = job
                        self._renumber(town)
                        return job
                self._cond.wait()
            return None

    def _work(self, small_only: bool = False) -> None:
        while (job := self._next(small_only)) is not None:
            try:
                self._run(job)
            finally:
                with self._cond:
                    self._busy.pop(job.township, None)
                    self._renumber(job.township)
                    self._cond.notify_all()

    # -- one job ---------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        if job.withdraw is not None:
            self._withdraw(job)
            return
        names = dict(zip((p.name for p in job.paths), job.display, strict=True))
        before = list(job.reports)
        job.started = datetime.now()
        deadline = time.monotonic() + self.time_limit

        def check() -> None:
            if job.stop is None and time.monotonic() > deadline:
                job.stop = "timeout"
            if job.stop is not None:
                raise _Stopped(job.stop)

        def progress(label: str, done: int, total: int) -> None:
            if label == "比对人员":
                job.status = "linking"
            elif job.status not in ("linking", "stopping"):
                job.status = "running"
            job.done, job.current = len(before) + min(done, total), names.get(label, label)
            check()

        reports: list[Any] = []
        on_way = contextlib.ExitStack()
        try:
            if job.stop is None:
                job.status = "reading"
            if job.size <= self.small_bytes:  # its ingest may share a unit: say it is on its way
                on_way.enter_context(self.hub.ingest_coming())
            from hub.ingest.bounded import bounded_reads

            # each file read in a child process: stopped at once by cancel, the time limit or
            # shutdown (check) and by the memory ceiling (HUB_JOB_MAX_MEMORY_MB)
            with bounded_reads(check=check):
                staged = self.hub.stage(job.paths, township=job.township, columns=job.columns)
            log.info(
                "job %s (%s): queued %.2f s, read in %.2f s",
                job.id, job.township, (job.started - job.created).total_seconds(), _since(job),
            )  # fmt: skip
            check()
            from hub.store.units import weighing

            with weighing(sum(getattr(s, "cells", 0) for s in staged.values())):
                reports = self.hub.ingest(
                    job.paths,
                    township=job.township,
                    submitted_by=job.username,
                    progress=progress,
                    columns=job.columns,
                    staged=staged,
                )
                job.reports = before + [_shown(r.to_dict(), names) for r in reports]
                check()
                if ingested := [int(r.submission_id or 0) for r in reports if r.status == "ingested"]:
                    job.status = "merging"
                    self._merge(job, max(ingested))
        except _Stopped as stop:
            self._undo(job, stop.reason, before)
            return
        except Exception as exc:  # never a traceback to the browser; the log keeps it
            if job.stop is not None:  # interrupted on shutdown: the ingest resumes next time
                self._undo(job, job.stop, before)
                return
            log.exception("ingest job %s failed", job.id)
            job.status, job.finished = "failed", datetime.now()
            job.message = f"处理时发生系统错误（{type(exc).__name__}），文件未能全部导入。请联系数据管理员。"
            return
        finally:
            on_way.close()  # no longer on its way (already arrived, or stopped before)
        job.status, job.finished = "done", datetime.now()
        log.info("job %s (%s): done in %.2f s", job.id, job.township, _since(job))

    def _withdraw(self, job: Job) -> None:
        from hub.errors import HubError

        job.started, job.status = datetime.now(), "withdrawing"
        try:
            out = self.hub.withdraw(int(job.withdraw or 0), by=job.username, reason=job.reason)
        except HubError as exc:
            job.status, job.message = "failed", str(exc)
        except Exception as exc:
            log.exception("withdrawal job %s failed", job.id)
            job.status = "failed"
            job.message = f"撤回时发生系统错误（{type(exc).__name__}），请联系数据管理员。"
        else:
            job.status, job.done = "done", 1
            job.message = (
                f"已撤回提交号 {out['submission_id']}（{out['file_name']}）：其数据已从所有部门报表中删除；"
                f"撤回记录（撤回人 {out['withdrawn_by']}、时间、原因）永久保存。"
            )
        job.finished = datetime.now()

    def _merge(self, job: Job, covering: int) -> None:
        try:
            # another job's merge that started after this job's files were stored takes them in
            self.hub.merge(covering=covering)
        except Exception as exc:
            if job.stop is not None:
                raise _Stopped(job.stop) from exc
            log.exception("merge after ingest job %s failed", job.id)
            job.message = (
                f"文件已导入并校验，但合并（一人一码）时发生系统错误（{type(exc).__name__}），"
                "部门报表暂未更新。请联系数据管理员。"
            )

    def _stored_by(self, job: Job) -> list[int]:
        """Submissions this job stored (its upload paths, since it started), not yet withdrawn."""
        if not job.paths or job.started is None:
            return []
        marks = ", ".join("?" for _ in job.paths)
        return [
            int(r[0])
            for r in self.hub.db.rows(
                f"""SELECT s.submission_id FROM hub_submissions s
                JOIN hub_submission_state st USING (submission_id)
                WHERE st.source_path IN ({marks}) AND s.submitted_at >= ?
                ORDER BY 1""",
                [*(str(p) for p in job.paths), job.started],
            )
        ]

    def _undo(self, job: Job, reason: str, before: list[dict[str, Any]]) -> None:
        """A job stopped: what it stored is withdrawn (except on shutdown, where the next ingest
        finishes it: there is no time to relink), and the clerk told so."""
        text = _STOPPED_TEXT[reason].format(limit=f"{self.time_limit:g}")
        stored = [] if reason == "shutdown" else self._stored_by(job)
        withdrawn, failed = [], []
        for sid in stored:
            try:
                self.hub.withdraw(
                    sid, by=job.username, reason=f"上传任务{STATUS_TEXT[_STATUS_OF_STOP[reason]]}"
                )
                withdrawn.append(sid)
            except Exception:
                log.exception("withdrawing submission %s of stopped job %s failed", sid, job.id)
                failed.append(sid)
        outcome = "未完成，服务恢复后的下一次导入会补完已入库的部分" if reason == "shutdown" else "未导入"
        job.reports = before + [
            {
                "file": n,
                "status": "refused",
                "message": f"{n}：{outcome}（{STATUS_TEXT[_STATUS_OF_STOP[reason]]}）。",
            }
            for n in job.display
        ]
        if withdrawn:
            text += (
                f"已导入的部分（提交号 {'、'.join(map(str, withdrawn))}）已撤回，数据库恢复到任务之前的状态。"
            )
        elif not failed and reason != "shutdown":
            text += "文件未导入，数据库未作任何改动。"
        if failed:
            text += f"提交号 {'、'.join(map(str, failed))} 未能撤回，请联系数据管理员。"
        job.status, job.finished, job.message = _STATUS_OF_STOP[reason], datetime.now(), text

    # -- shutdown ---------------------------------------------------------------------------------
    def _mark_interrupted(self, job: Job) -> None:
        job.stop, job.status, job.finished = "shutdown", "interrupted", datetime.now()
        job.message = _STOPPED_TEXT["shutdown"] + "文件未导入，数据库未作任何改动。"

    def shutdown(self, grace: float = 3.0) -> None:
        """Stop: queued jobs are marked for the clerk to upload again; running jobs stop at their
        next step boundary; after ``grace`` seconds a store statement still in flight is
        interrupted (its transaction rolls back). Returns within about ``grace + 2`` seconds."""
        with self._cond:
            self._closing = True
            for queue in self._queues.values():
                while queue:
                    self._mark_interrupted(queue.popleft())
            running = list(self._busy.values())
            for job in running:
                job.stop = job.stop or "shutdown"
            self._cond.notify_all()
        end = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            self._interrupt()
            for thread in self._threads:
                thread.join(2.0)

    def _interrupt(self) -> None:
        self.hub.interrupt()


def _since(job: Job) -> float:
    return (datetime.now() - (job.started or job.created)).total_seconds()


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

"""Export jobs: an incident's zip (ecc.command_center.export) built in the background, with its
progress where any center node can read it.

A job's state (queued, running, done, failed, cancelled; bytes done of the total; the step) is
kept in the store (`state` repository, key `export-job:{id}`) and its file under
`DATA_DIR/exports/`, which every node reaches as it reaches the recordings; the node that took
the request builds it, at most `incidents.exports_at_once` at a time, each in a worker thread,
as an owned, named task. A running job's state is refreshed every few seconds: one whose node
died shows as failed once that stops. Finished files go after `incidents.export_keep_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ecc import times
from ecc.command_center import report
from ecc.command_center.export import Cancelled, Progress, Report, Writer, gather
from ecc.config import Settings, Site
from ecc.incidents import Desk
from ecc.storage import Store, StoreError

log = logging.getLogger(__name__)

KEY = "export-job:"
FOLDER = "exports"
HEARTBEAT_S = 3.0
# A running job not refreshed for this long lost its node.
STALE_S = 30.0
PROGRESS_EVERY_S = 0.5
# Jobs queued or running on one node, at most: more is refused (429), not queued without end.
MAX_JOBS = 16
SWEEP_EVERY_S = 600.0


def build(
    desk: Desk,
    settings: Settings,
    site: Site,
    incident_id: str,
    path: Path,
    language: str,
    progress: Report = lambda p: None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Write the incident's export to `path`; returns its manifest. Blocking."""
    incident = desk.store.incidents.get(incident_id)
    progress(Progress(0, 0, "gather"))
    gathered = gather(desk, settings, site, incident, Path(settings.data_dir))
    writer = Writer(
        gathered,
        lambda g: report.render(g, site, language),
        progress,
        cancel or threading.Event(),
    )
    return writer.write(path)


@dataclass
class Job:
    id: str
    incident_id: str
    username: str
    language: str
    state: str
    created_at: float
    updated_at: float
    done: int = 0
    total: int = 0
    step: str = ""
    error: str | None = None
    bytes: int | None = None
    finished_at: float | None = None

    def to_wire(self) -> dict[str, Any]:
        state = self.state
        if state in ("queued", "running") and time.time() - self.updated_at > STALE_S:
            state = "failed"
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "state": state,
            "progress": 1.0 if state == "done" else (self.done / self.total if self.total else 0.0),
            "done": self.done,
            "total": self.total,
            "step": self.step,
            "error": self.error
            if state == self.state
            else "the center building it stopped; start again",
            "bytes": self.bytes,
            "created_at": times.iso(round(self.created_at, 3)),
            "finished_at": times.iso_or_none(
                None if self.finished_at is None else round(self.finished_at, 3)
            ),
            "by": self.username,
        }


class TooMany(Exception):
    pass


class ExportJobs:
    def __init__(self, desk: Desk, settings: Settings, site: Site) -> None:
        self.desk = desk
        self.store: Store = desk.store
        self.settings = settings
        self.site = site
        self.folder = Path(settings.data_dir) / FOLDER
        self._slots: asyncio.Semaphore | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def path(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.zip"

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._slots = asyncio.Semaphore(self.settings.incidents.exports_at_once)
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="export-sweeper")

    async def stop(self) -> None:
        for event in self._cancel.values():
            event.set()
        tasks = [*self._tasks.values(), *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._sweeper = None

    # -- jobs ---------------------------------------------------------------------------------

    async def submit(self, incident_id: str, username: str, language: str) -> Job:
        """Queue an export of the incident (NotFound if there is none)."""
        await asyncio.to_thread(self.store.incidents.get, incident_id)
        if len(self._tasks) >= MAX_JOBS:
            raise TooMany(f"{MAX_JOBS} exports are under way on this center; try again later")
        now = time.time()
        job = Job(uuid.uuid4().hex, incident_id, username, language, "queued", now, now)
        await asyncio.to_thread(self._save, job)
        self._cancel[job.id] = threading.Event()
        task = asyncio.create_task(self._run(job), name=f"export-{job.id[:8]}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._forget(job.id))
        return job

    def _forget(self, job_id: str) -> None:
        self._tasks.pop(job_id, None)
        self._cancel.pop(job_id, None)

    def get(self, job_id: str) -> Job | None:
        """Blocking (reads the store)."""
        value = self.store.state.get(KEY + job_id)
        return None if value is None else Job(**value)

    def cancel(self, job_id: str) -> bool:
        """Stop a job this node builds; False if it is not here (or over)."""
        event = self._cancel.get(job_id)
        if event is None:
            return False
        event.set()
        return True

    def _save(self, job: Job) -> None:
        self.store.state.put(KEY + job.id, asdict(job))

    async def _run(self, job: Job) -> None:
        assert self._slots is not None
        cancel = self._cancel[job.id]
        try:
            async with self._slots:
                job.state = "running"
                job.updated_at = time.time()
                await asyncio.to_thread(self._save, job)
                await self._build(job, cancel)
        except asyncio.CancelledError:
            cancel.set()
            job.state, job.error = "cancelled", "the center stopped"
            await self._finish(job)
            raise
        except Cancelled:
            job.state, job.error = "cancelled", "cancelled"
        except Exception as exc:
            log.exception("export %s of incident %s failed", job.id, job.incident_id)
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
        else:
            job.state = "done"
        await self._finish(job)

    async def _finish(self, job: Job) -> None:
        job.finished_at = job.updated_at = time.time()
        if job.state == "done":
            with contextlib.suppress(OSError):
                job.bytes = self.path(job.id).stat().st_size
        try:
            await asyncio.to_thread(self._save, job)
        except StoreError:
            log.exception("export %s: its state could not be saved", job.id)

    async def _build(self, job: Job, cancel: threading.Event) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        last = 0.0

        def progress(p: Progress) -> None:
            # On the builder's thread: note it, and save it now and then.
            nonlocal last
            job.done, job.total, job.step = p.done, p.total, p.step
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_S:
                last = now
                job.updated_at = time.time()
                self._save(job)

        work = loop.run_in_executor(
            None,
            lambda: build(
                self.desk,
                self.settings,
                self.site,
                job.incident_id,
                self.path(job.id),
                job.language,
                progress,
                cancel,
            ),
        )
        while True:
            done, _ = await asyncio.wait({work}, timeout=HEARTBEAT_S)
            if done:
                work.result()
                return
            # Still alive, even while a step reports nothing (planning long clips).
            job.updated_at = time.time()
            await asyncio.to_thread(self._save, job)

    # -- old files ----------------------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:
                log.exception("sweeping old exports failed")
            await asyncio.sleep(SWEEP_EVERY_S)

    def sweep(self, now: float | None = None) -> int:
        """Delete the files and states of exports finished more than `export_keep_s` ago."""
        now = time.time() if now is None else now
        keep = self.settings.incidents.export_keep_s
        gone = 0
        for key in self.store.state.keys(KEY):
            value = self.store.state.get(key)
            if value is None:
                continue
            job = Job(**value)
            ended = job.finished_at or (job.updated_at + STALE_S)
            if job.id in self._tasks or now - ended < keep:
                continue
            self.path(job.id).unlink(missing_ok=True)
            self.store.state.delete(key)
            gone += 1
        return gone

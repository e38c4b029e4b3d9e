"""The recordings of one process: a recorder per source it records, the reconcile at start, the
retention loop, and the alert when a source cannot be recorded.

The camera worker records its cameras (`camera:{id}`), the center the vehicles that publish to
its media hub (`vehicle:{id}`); each runs one `Recordings` as an owned task. Boot sequence:

1. every recorder's task starts at once (recording begins with the source's next keyframe);
2. each source's index is reconciled with its files (ecc.media.reconcile), in a thread;
3. retention runs now and every `retention_interval_s`, and at once when a disk fills up.

Segment files are written by a small thread pool of this process's own (`writers` threads), so
that a slow disk never takes the threads the rest of the process works with.

A failed write (a full disk, a broken one) drops that segment, raises a `recording_failed`
alert for the source and is retried a few seconds later; the first segment written whole after
it resolves the alert. Nothing here ends the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ecc.bus.alerter import Alerter, Condition
from ecc.config.settings import RecordingSettings
from ecc.media.reconcile import reconcile
from ecc.media.recorder import Recorder, RecorderCounts, RecorderOptions
from ecc.media.retention import Retention, RetentionPass, RetentionRules
from ecc.storage import Store
from ecc.storage.models import Severity, SourceType

log = logging.getLogger(__name__)

ALERT_KIND = "recording_failed"


def options_of(settings: RecordingSettings) -> RecorderOptions:
    return RecorderOptions(
        segment_s=settings.segment_s,
        queue_fragments=settings.queue_fragments,
        idle_close_s=settings.idle_close_s,
    )


class Recordings:
    def __init__(
        self,
        store: Store,
        data_dir: Path,
        settings: RecordingSettings,
        sources: Mapping[str, float],
        alerter: Alerter | None = None,
    ) -> None:
        """`sources`: source id -> days of recordings to keep."""
        self.store = store
        self.data_dir = data_dir
        self.settings = settings
        self.alerter = alerter
        self.recorders: dict[str, Recorder] = {}
        self._days: dict[str, float] = {}
        self.retention = Retention(
            store,
            data_dir,
            RetentionRules(
                days=self._days,
                disk_cap_bytes=settings.disk_cap_bytes,
                min_free_bytes=settings.min_free_bytes,
            ),
        )
        for source, days in sources.items():
            self.add(source, days)
        self.last_retention: RetentionPass | None = None
        self.reconciled = asyncio.Event()
        """Set once every source's index has been reconciled with its files."""
        self._retention_now = asyncio.Event()
        self._alerted: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor: ThreadPoolExecutor | None = None

    def add(self, source: str, days: float) -> Recorder:
        """Record one more source, keeping `days` of it (before `run`)."""
        recorder = Recorder(
            source,
            self.store,
            self.data_dir,
            options=options_of(self.settings),
            on_failure=self._failed,
            on_success=self._recovered,
        )
        self.recorders[source] = recorder
        self._days[source] = days
        return recorder

    def recorder(self, source: str) -> Recorder | None:
        return self.recorders.get(source)

    def counts(self) -> dict[str, RecorderCounts]:
        return {source: r.counts for source, r in self.recorders.items()}

    async def run(self) -> None:
        """Record, reconcile, keep retention; until cancelled, when every recorder ends its
        segment (indexed) before this returns."""
        executor = self._executor = ThreadPoolExecutor(
            self.settings.writers, thread_name_prefix="recorder"
        )
        started = time.time()
        recorders = []
        for source, recorder in self.recorders.items():
            recorder.executor = executor
            recorders.append(asyncio.create_task(recorder.run(), name=f"recorder-{source}"))
        try:
            await self._reconcile(started)
            while True:
                await self._retention_pass()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._retention_now.wait(), self.settings.retention_interval_s
                    )
                self._retention_now.clear()
        finally:
            for task in recorders:
                task.cancel()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*recorders, *self._tasks, return_exceptions=True)
            for recorder in self.recorders.values():
                await recorder.close()
            executor.shutdown(wait=False)
            self._executor = None

    async def _reconcile(self, started: float) -> None:
        loop = asyncio.get_running_loop()
        for source in self.recorders:
            try:
                await loop.run_in_executor(
                    self._executor, reconcile, self.store, self.data_dir, source, started
                )
            except Exception:
                # A store that is away now: the next start reconciles; recording goes on.
                log.exception("%s: could not reconcile the recordings", source)
        self.reconciled.set()

    async def _retention_pass(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self.last_retention = await loop.run_in_executor(
                self._executor, self.retention.run, time.time()
            )
        except Exception:
            log.exception("retention failed; trying again at the next pass")

    def run_retention(self) -> None:
        """Run a retention pass now (a disk filled up, or a test)."""
        self._retention_now.set()

    # -- failures -------------------------------------------------------------------------

    def _failed(self, source: str, exc: OSError) -> None:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        if full:
            self._retention_now.set()
        if source in self._alerted:
            return
        self._alerted.add(source)
        what = "磁盘已满" if full else (exc.strerror or str(exc))
        self._spawn(self._alert(source, "danger", f"录像写入失败：{what}"), f"alert-{source}")

    def _recovered(self, source: str) -> None:
        if source in self._alerted:
            self._alerted.discard(source)
            self._spawn(self._alert(source, None, ""), f"alert-{source}")

    async def _alert(self, source: str, severity: Severity | None, message: str) -> None:
        if self.alerter is None:
            return
        kind, _, ident = source.partition(":")
        source_type: SourceType = "vehicle" if kind == "vehicle" else "camera"
        condition = Condition(
            kind=ALERT_KIND,
            source_type=source_type,
            source_id=ident,
            metric=None,
            severity=severity,
            ts=time.time(),
            message=message,
        )
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, self.alerter.apply, condition
            )
        except Exception:
            log.exception("%s: could not store the recording alert", source)
            if severity is None:
                self._alerted.add(source)
            else:
                self._alerted.discard(source)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=f"recordings-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

"""Which recordings go, and when (blocking: a thread).

Three rules, in this order, each deleting the oldest segments first and never one that a pin in
force covers (an incident's recordings are kept while it is open and for its own retention):

1. `age`: each source keeps its `retention_days`;
2. `disk_cap`: all the recordings of the index together stay under `disk_cap_bytes`;
3. `min_free`: the disk that holds them keeps `min_free_bytes` free.

A segment leaves the index first and its file after, so playback never meets a missing file;
a crash in between leaves a file that the next reconcile indexes again, and this deletes again.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ecc import times
from ecc.media.recorder import ROOT
from ecc.storage import Store
from ecc.storage.models import Segment

log = logging.getLogger(__name__)

BATCH = 200
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class RetentionRules:
    days: Mapping[str, float]
    """Source -> days to keep, for the sources this process records."""
    disk_cap_bytes: int | None = None
    min_free_bytes: int = 0


@dataclass
class RetentionPass:
    deleted: dict[str, list[Segment]] = field(default_factory=dict)
    short_of_space: bool = False
    """The cap or the free space could not be met: what is left is pinned."""

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.deleted.values())


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


class Retention:
    def __init__(
        self,
        store: Store,
        data_dir: Path,
        rules: RetentionRules,
        free: Callable[[Path], int] = free_bytes,
    ) -> None:
        self.store = store
        self.data_dir = data_dir
        self.rules = rules
        self._free = free

    def run(self, now: float) -> RetentionPass:
        done = RetentionPass()
        repo = self.store.recordings
        for source, days in sorted(self.rules.days.items()):
            before = now - days * DAY_S
            while batch := repo.oldest(now, BATCH, source=source, before=before):
                if not self._delete(batch, "age", done):
                    break
        cap = self.rules.disk_cap_bytes
        if cap is not None:
            total = sum(size for _, size in repo.usage().values())
            while total > cap:
                batch = repo.oldest(now, BATCH)
                if not batch:
                    done.short_of_space = True
                    break
                chosen: list[Segment] = []
                for s in batch:
                    if total <= cap:
                        break
                    chosen.append(s)
                    total -= s.bytes
                self._delete(chosen, "disk_cap", done)
        if self.rules.min_free_bytes:
            root = self.data_dir / ROOT
            root.mkdir(parents=True, exist_ok=True)
            while self._free(root) < self.rules.min_free_bytes:
                batch = repo.oldest(now, BATCH)
                # One at a time, looking at the disk after each: no more goes than is needed.
                progressed = False
                for segment in batch:
                    if self._free(root) >= self.rules.min_free_bytes:
                        break
                    progressed = self._delete([segment], "min_free", done) or progressed
                if not progressed:
                    done.short_of_space = True
                    break
        for reason, segments in done.deleted.items():
            log.info(
                "retention (%s): deleted %d segments, %.1f MB, from %s to %s",
                reason,
                len(segments),
                sum(s.bytes for s in segments) / 1e6,
                times.iso(min(s.start for s in segments)),
                times.iso(max(s.end for s in segments)),
            )
        if done.short_of_space:
            log.warning(
                "retention: the disk cap or the free space cannot be met; the rest is pinned"
            )
        return done

    def _delete(self, batch: list[Segment], reason: str, done: RetentionPass) -> bool:
        """Delete a batch; False if none of it was still there to delete."""
        gone = self.store.recordings.delete([s.id for s in batch if s.id is not None], reason)
        for s in gone:
            path = self.data_dir / s.path
            path.unlink(missing_ok=True)
            _prune(path.parent, self.data_dir / ROOT)
        done.deleted.setdefault(reason, []).extend(gone)
        return bool(gone)


def _prune(folder: Path, root: Path) -> None:
    """Remove folders left empty (an hour's, then its day's), up to the source's own."""
    for _ in range(2):
        if folder == root or root not in folder.parents:
            return
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent

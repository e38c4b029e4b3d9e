"""Making a source's recording index and its files agree again, at start (blocking: a thread).

After a crash or a power cut there can be:

- a `.part` file (the segment being written): its complete fragments are kept (the file is cut
  after the last one, renamed and indexed), or it is removed when it holds none;
- a whole segment file the index does not name (renamed, then the process died before indexing
  it): indexed from its own boxes, or removed when it cannot be read;
- an index entry whose file is gone (deleted by hand, a lost disk): dropped, and counted.

Files written since `before` (this run's own recorder is already at work) are left alone.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ecc.media import mp4
from ecc.media.recorder import PART, fsync_dir, source_dir, start_of
from ecc.storage import Store
from ecc.storage.models import Segment

log = logging.getLogger(__name__)


@dataclass
class Reconciled:
    orphans_indexed: int = 0
    parts_salvaged: int = 0
    removed: int = 0
    missing_dropped: int = 0

    def __bool__(self) -> bool:
        return any((self.orphans_indexed, self.parts_salvaged, self.removed, self.missing_dropped))


def segment_of(data_dir: Path, source: str, name: str, layout: mp4.Layout) -> Segment:
    """The index entry of a whole segment file, read back from its boxes and its name."""
    start = start_of(name)
    scale = layout.timescale
    with (data_dir / name).open("rb") as f:
        init = f.read(layout.init_bytes)
    return Segment(
        source=source,
        start=start,
        end=start + layout.duration / scale,
        path=name,
        bytes=layout.complete_bytes,
        init_bytes=layout.init_bytes,
        keyframes=tuple(
            round((fr.base_dts - layout.base_dts) / scale, 6) for fr in layout.fragments
        ),
        codec=layout.track.codec,
        width=layout.track.width,
        height=layout.track.height,
        init_id=mp4.init_id(init),
    )


def _layout(path: Path) -> mp4.Layout | None:
    try:
        with path.open("rb") as f:
            return mp4.read_layout(f, path.stat().st_size)
    except (mp4.Mp4Error, OSError, ValueError) as exc:
        log.warning("%s: unreadable segment (%s)", path, exc)
        return None


def reconcile(store: Store, data_dir: Path, source: str, before: float) -> Reconciled:
    done = Reconciled()
    root = data_dir / source_dir(source)
    indexed = store.recordings.paths(source)
    seen: set[str] = set()
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    for path in files:
        name = path.relative_to(data_dir).as_posix()
        try:
            if path.stat().st_mtime >= before:
                continue
        except FileNotFoundError:
            continue
        if name.endswith(PART):
            final = name.removesuffix(PART)
            layout = _layout(path)
            if layout is None or not layout.fragments or not _named(final):
                path.unlink(missing_ok=True)
                done.removed += 1
                continue
            # Keep the complete fragments: cut the unfinished one off, then as if just written.
            with path.open("r+b") as f:
                f.truncate(layout.complete_bytes)
                f.flush()
                os.fsync(f.fileno())
            path.rename(data_dir / final)
            fsync_dir(path.parent)
            store.recordings.add(segment_of(data_dir, source, final, layout))
            seen.add(final)
            done.parts_salvaged += 1
        elif name.endswith(".mp4"):
            seen.add(name)
            if name in indexed:
                continue
            layout = _layout(path)
            if layout is None or not layout.fragments or not _named(name):
                path.unlink(missing_ok=True)
                done.removed += 1
                continue
            store.recordings.add(segment_of(data_dir, source, name, layout))
            done.orphans_indexed += 1
    missing = [
        i for name, i in indexed.items() if name not in seen and not (data_dir / name).exists()
    ]
    done.missing_dropped = len(store.recordings.delete(missing, "missing"))
    if done:
        log.warning(
            "%s: reconciled the index with the disk: %d orphan files indexed, %d unfinished "
            "segments salvaged, %d unusable files removed, %d entries without a file dropped",
            source,
            done.orphans_indexed,
            done.parts_salvaged,
            done.removed,
            done.missing_dropped,
        )
    return done


def _named(name: str) -> bool:
    try:
        start_of(name)
    except ValueError:
        return False
    return True

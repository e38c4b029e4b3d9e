"""Stored motion events as the wire sees them, and where their thumbnails live.

Shared by the motion worker (which writes them) and the center (which serves them); the center
finds a thumbnail under its own DATA_DIR, so the two share that folder (one machine, or a shared
volume, as for recordings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecc.storage.models import MotionEvent
from ecc.times import iso, iso_or_none

THUMBNAILS = "motion"


def thumbnail_name(camera_id: str, event_id: str, start: float) -> str:
    """Relative to DATA_DIR: motion/<camera>/<UTC day>/<event>.jpg, so a day goes at once."""
    day = iso(start)[:10]
    return f"{THUMBNAILS}/{camera_id}/{day}/{event_id}.jpg"


def thumbnail_path(data_dir: Path, event: MotionEvent) -> Path | None:
    """The event's thumbnail file, if it has one that lies inside DATA_DIR."""
    if event.thumbnail is None:
        return None
    root = (data_dir / THUMBNAILS).resolve()
    path = (data_dir / event.thumbnail).resolve()
    return path if path.is_relative_to(root) else None


def motion_to_wire(event: MotionEvent) -> dict[str, Any]:
    x, y, w, h = event.box
    return {
        "id": event.id,
        "camera_id": event.camera_id,
        "zone": event.zone,
        "state": "active" if event.end is None else "ended",
        "start": iso(event.start),
        "end": iso_or_none(event.end),
        "peak_score": event.peak_score,
        "box": {"x": x, "y": y, "w": w, "h": h},
        "thumbnail": (None if event.thumbnail is None else f"/api/motion/{event.id}/thumbnail.jpg"),
        "alert_id": event.alert_id,
        "announced": event.announced,
        "label": event.label,
    }

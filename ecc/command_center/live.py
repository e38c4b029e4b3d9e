"""What this node has heard on the bus lately: station and camera status.

Both come from retained MQTT messages, so a node that starts (or restarts) learns the current
status from the broker at once; nothing here exists only in one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LiveState:
    station_status: dict[str, dict[str, Any]] = field(default_factory=dict)
    camera_status: dict[str, dict[str, Any]] = field(default_factory=dict)

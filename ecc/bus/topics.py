"""MQTT topics of DESIGN.md under a configurable prefix (default `ecc/v1`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str = "ecc/v1"

    def readings(self, station_id: str = "+") -> str:
        return f"{self.prefix}/stations/{station_id}/readings"

    def station_status(self, station_id: str = "+") -> str:
        return f"{self.prefix}/stations/{station_id}/status"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}/alerts"

    def camera_status(self, camera_id: str = "+") -> str:
        return f"{self.prefix}/cameras/{camera_id}/status"

    def camera_demand(self, camera_id: str = "+") -> str:
        """Retained `{"main": n, "sub": n, "ts": ...}`: viewers of each stream in the media hub;
        the camera worker pushes a stream over WHIP while its count is above zero."""
        return f"{self.prefix}/cameras/{camera_id}/demand"

    def camera_motion_config(self, camera_id: str = "+") -> str:
        """A camera's motion settings (`{"camera_id", "motion": {...} | null}`), published by the
        center when an admin saves them, so that the camera worker applies them at once."""
        return f"{self.prefix}/cameras/{camera_id}/motion/config"

    def vehicle_position(self, vehicle_id: str = "+") -> str:
        return f"{self.prefix}/vehicles/{vehicle_id}/position"

    def vehicle_telemetry(self, vehicle_id: str = "+") -> str:
        """A vehicle's link quality (RTT, loss, bitrate) as it reports it; every node relays it."""
        return f"{self.prefix}/vehicles/{vehicle_id}/telemetry"

    def events(self, kind: str = "+") -> str:
        """Other events every center node relays to its WebSocket clients (incident, ...)."""
        return f"{self.prefix}/events/{kind}"

    def station_of(self, topic: str) -> str | None:
        """The station id of a readings or status topic, or None if the topic is not one."""
        head = f"{self.prefix}/stations/"
        if not topic.startswith(head):
            return None
        station, _, rest = topic[len(head) :].partition("/")
        return station if rest in ("readings", "status") and station else None

    def camera_of(self, topic: str) -> str | None:
        head = f"{self.prefix}/cameras/"
        if not topic.startswith(head) or not topic.endswith("/status"):
            return None
        return topic[len(head) : -len("/status")] or None

    def vehicle_of(self, topic: str, kind: str = "position") -> str | None:
        """The vehicle id of a `position` (or `telemetry`) topic, or None if it is not one."""
        head, tail = f"{self.prefix}/vehicles/", f"/{kind}"
        if not topic.startswith(head) or not topic.endswith(tail):
            return None
        return topic[len(head) : -len(tail)] or None

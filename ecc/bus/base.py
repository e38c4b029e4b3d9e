from __future__ import annotations

from typing import Protocol

from ecc.bus.client import Handler


class Bus(Protocol):
    """What the command center and workers need of the bus: MqttClient or LocalBus."""

    @property
    def connected(self) -> bool: ...

    def subscribe(self, pattern: str, handler: Handler, qos: int = 0) -> None: ...

    def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False
    ) -> None: ...

    async def start(self, timeout: float | None = 10.0) -> None: ...

    async def stop(self) -> None: ...

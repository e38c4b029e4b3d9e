"""`ecc vehicle`: the agent of a vehicle with a fixed mast camera or a laptop.

It streams the vehicle's video and sound to the center over WHIP and reports its position and
link quality over the HTTP API, through a cellular link that drops: the stream is published again
by itself, and positions wait in a spool on disk until the center has stored them.

It sits in `ingest` (sources brought into the center) and shares the camera worker's stream
pipeline (ecc.ingest.cameras.pipeline: a reader thread, a GOP cache, reopening with backoff). It
runs on the vehicle, so it uses neither the store nor the bus: only HTTP and WHIP to the center.
See agent.py for the boot sequence.
"""

from __future__ import annotations

from ecc.ingest.vehicle.agent import AgentOptions, VehicleAgent

__all__ = ["AgentOptions", "VehicleAgent"]

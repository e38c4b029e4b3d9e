"""`ecc simulate stations|cameras`: realistic sources for demos, tests and load."""

from __future__ import annotations

import argparse

from ecc.media import simulate as cameras
from ecc.sensors import simulate as stations

# Each simulator module has register(subparsers); add yours to this list.
SIMULATORS: list[object] = [stations, cameras]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="run a simulated source")
    sims = p.add_subparsers(dest="simulator", required=True, metavar="SOURCE")
    for module in SIMULATORS:
        module.register(sims)  # type: ignore[attr-defined]

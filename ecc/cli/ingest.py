"""`ecc ingest sensors|cameras`: the ingest workers, each alone."""

from __future__ import annotations

import argparse

from ecc.ingest import cameras, sensors

# Each worker module has register(subparsers); add yours to this list.
WORKERS: list[object] = [sensors, cameras]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ingest", help="run an ingest worker alone")
    workers = p.add_subparsers(dest="worker", required=True, metavar="WORKER")
    for module in WORKERS:
        module.register(workers)  # type: ignore[attr-defined]

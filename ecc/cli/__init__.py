"""The `ecc` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ecc import __version__
from ecc.cli import export, ingest, mqtt_config, run, serve, simulate, user, vehicle
from ecc.config import ConfigError

# Each module adds its subcommands; later parts of ECC add theirs here.
COMMANDS = [run, serve, ingest, simulate, user, mqtt_config, vehicle, export]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ecc", description="ECC emergency command center")
    p.add_argument("--version", action="version", version=f"ecc {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(f"ecc: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result

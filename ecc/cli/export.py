"""`ecc export incident ID`: an incident's export zip, built here, with a progress bar.

It reads the store and the recordings (DATA_DIR) as the center does, so it runs on a machine
that has both (the center's, or one sharing its database and data folder), needs no token, and
goes in the audit log under `cli:<login name>`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path
from typing import TextIO

from ecc.bus.topics import Topics
from ecc.cli.boot import load_config
from ecc.command_center.export import Progress
from ecc.command_center.exports import build
from ecc.incidents import Desk
from ecc.storage import NotFound, open_store
from ecc.storage.models import AuditEntry

BAR = 30


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help="export an incident (clips, timeline, readings, report)")
    what = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    incident = what.add_parser(
        "incident",
        help="an incident's zip: clips, timeline, readings, tracks and an offline HTML report",
    )
    incident.add_argument("incident_id", metavar="ID")
    incident.add_argument(
        "--out", type=Path, default=None, help="zip file to write (default incident-ID.zip here)"
    )
    incident.add_argument(
        "--language", choices=("zh-CN", "en"), default="zh-CN", help="of the HTML report"
    )
    incident.set_defaults(func=command)


class Bar:
    """A progress bar on a terminal; on anything else, a line every tenth of the way."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.shown = -1
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        percent = int(p.fraction * 100)
        if self.tty:
            now = time.monotonic()
            if percent == self.shown and now - self.last < 0.2:
                return
            self.last = now
            filled = int(p.fraction * BAR)
            size = f"{p.done / 1e6:.1f}/{p.total / 1e6:.1f} MB"
            line = (
                f"\r[{'#' * filled}{'.' * (BAR - filled)}] {percent:3d}%  {size}  {p.step[:40]:<40}"
            )
            self.out.write(line)
            self.out.flush()
        elif percent // 10 != self.shown // 10:
            self.out.write(f"{percent:3d}%  {p.step}\n")
            self.out.flush()
        self.shown = percent

    def end(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()


def command(args: argparse.Namespace) -> int:
    settings, site = load_config()
    out: Path = args.out or Path(f"incident-{args.incident_id[:12]}.zip")
    store = open_store(settings.database_url)
    try:
        desk = Desk(
            settings.incidents, site, store, Topics(settings.mqtt_prefix), lambda t, p: None
        )
        bar = Bar(sys.stderr)
        try:
            manifest = build(desk, settings, site, args.incident_id, out, args.language, bar)
        except NotFound as exc:
            print(f"ecc: {exc}", file=sys.stderr)
            return 1
        finally:
            bar.end()
        store.audit.add(
            AuditEntry(
                ts=time.time(),
                action="incidents.export",
                username=f"cli:{getpass.getuser()}",
                target=str(out),
                detail={"incident": args.incident_id},
            )
        )
    finally:
        store.close()
    clips = [f for f in manifest["files"] if f["kind"] == "clip"]
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB, {len(clips)} clips")
    for missing in manifest["missing"]:
        print(f"  no recording of {missing['source']}: {missing['reason']}")
    return 0

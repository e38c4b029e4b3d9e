"""`ecc serve`: the command center alone (HTTP API, WebSocket events, media hub)."""

from __future__ import annotations

import argparse
import asyncio

from ecc.cli.boot import CenterServer, ensure_admin, load_config, log, supervise
from ecc.command_center.app import Parts, create_app
from ecc.storage import open_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the command center alone")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    settings, site = load_config()
    store = open_store(settings.database_url)
    try:
        password = ensure_admin(store, settings)
        if password:
            print(f"Created user {settings.auth.admin_user} with password {password} (shown once)")
        center = CenterServer(create_app(Parts(settings, site, store)), settings)
        center.check_port()
        log.info("command center on %s", settings.center)
        asyncio.run(supervise([center], restart=False))
    finally:
        store.close()
    return 0

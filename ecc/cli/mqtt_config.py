"""`ecc mqtt-config`: Mosquitto password file, ACL and configuration for a deployment."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

from ecc.bus.acl import mosquitto_conf, security
from ecc.bus.topics import Topics
from ecc.cli.boot import load_config
from ecc.config import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "mqtt-config",
        help="write a Mosquitto password file and ACL from the site",
        description="Writes DIR/passwd, DIR/acl and DIR/mosquitto.conf for the broker, and "
        "DIR/credentials.toml with every user's password (for the stations and ECC's "
        "processes; keep it secret). Run it again after changing the site: passwords already "
        "in DIR/credentials.toml are kept.",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    p.add_argument("--port", type=int, default=1883, help="broker port (default 1883)")
    p.add_argument("--bind", default=None, help="address to listen on (default all)")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    settings, site = load_config()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    credentials = out / "credentials.toml"
    keep: dict[str, str] = {}
    if credentials.exists():
        try:
            keep = dict(tomllib.loads(credentials.read_text()).get("users", {}))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{credentials}: not valid TOML: {exc}") from None
    try:
        sec = security(site, Topics(settings.mqtt_prefix), keep)
    except ValueError as exc:
        raise ConfigError(f"{settings.site}: {exc}") from None
    folder = str(out.resolve())
    # Readable by the broker's group (chgrp mosquitto), by nobody else.
    _write(out / "passwd", sec.password_file, 0o640)
    _write(out / "acl", sec.acl, 0o640)
    _write(out / "mosquitto.conf", mosquitto_conf(folder, args.port, args.bind), 0o644)
    lines = [
        "# Passwords of the MQTT users of ECC, written by `ecc mqtt-config`. Keep it secret.",
        "# Stations use their id as user name; ECC's processes take theirs from ECC_MQTT_URL",
        "# (mqtt://ecc-ingest:PASSWORD@host:port) or ECC_MQTT_USERNAME / ECC_MQTT_PASSWORD.",
        "[users]",
        *(f'"{name}" = "{pw}"' for name, pw in sec.users.items()),
    ]
    _write(credentials, "\n".join(lines) + "\n", 0o600)
    (out / "data").mkdir(exist_ok=True)
    print(
        f"wrote {out}/passwd, acl, mosquitto.conf and credentials.toml for "
        f"{len(sec.users)} users; start the broker with `mosquitto -c {folder}/mosquitto.conf`",
        file=sys.stderr,
    )
    return 0


def _write(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.chmod(mode)
    tmp.replace(path)

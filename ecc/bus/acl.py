"""Broker security for deployments: Mosquitto users, passwords and ACL, written from the site.

Who may do what on the bus, under the topic prefix:

- each station (user name = station id) publishes its own `stations/<id>/readings` and
  `stations/<id>/status` (its last will too), and reads nothing;
- `ecc-ingest` (sensor and camera ingest workers, their notifiers) reads readings, station
  status and alerts, and publishes alerts and `cameras/+/status`; the camera workers also read
  the motion settings the center publishes and publish `events/motion`;
- `ecc-center` (every center node) reads everything under the prefix, and publishes alerts
  (acknowledge, resolve), `events/#`, `vehicles/+/position` and `vehicles/+/telemetry`, and
  cameras' motion settings (`cameras/+/motion/config`) when an admin saves them.

Nobody else may publish alerts, a station cannot speak for another station, and anonymous
clients are refused. Passwords are random (128 bits), so Mosquitto's own PBKDF2-SHA512 password
format (`$7$`, 101 iterations, as `mosquitto_passwd` writes it) is only a second line of defence.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from ecc.bus.topics import Topics
from ecc.config import Site

INGEST_USER = "ecc-ingest"
CENTER_USER = "ecc-center"
SERVICE_USERS = (INGEST_USER, CENTER_USER)
ITERATIONS = 101
SALT_BYTES = 12


def password_hash(password: str, salt: bytes | None = None) -> str:
    """A Mosquitto 2 password file hash (`$7$iterations$salt$hash`, PBKDF2-HMAC-SHA512)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    return f"$7${ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def new_password() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class BrokerSecurity:
    users: dict[str, str]
    """User name -> password, for the credentials file (and nowhere else)."""
    acl: str
    password_file: str


def users_of(site: Site) -> list[str]:
    clash = {s.id for s in site.stations} & set(SERVICE_USERS)
    if clash:
        raise ValueError(f"station id {sorted(clash)[0]!r} is the name of an ECC service user")
    return [*SERVICE_USERS, *(s.id for s in site.stations)]


def acl_text(site: Site, topics: Topics) -> str:
    p = topics.prefix
    lines = [
        "# Mosquitto ACL of ECC, written by `ecc mqtt-config` from the site file.",
        "# Without a matching line, a user may neither publish nor subscribe.",
        "",
        f"user {INGEST_USER}",
        f"topic read {topics.readings()}",
        f"topic read {topics.station_status()}",
        f"topic readwrite {topics.alerts}",
        f"topic write {topics.camera_status()}",
        f"topic read {topics.camera_motion_config()}",
        f"topic read {topics.camera_demand()}",
        f"topic write {topics.events('motion')}",
        "",
        f"user {CENTER_USER}",
        f"topic read {p}/#",
        f"topic write {topics.alerts}",
        f"topic write {topics.events('#')}",
        f"topic write {topics.camera_motion_config()}",
        f"topic write {topics.camera_demand()}",
        f"topic write {topics.vehicle_position()}",
        f"topic write {topics.vehicle_telemetry()}",
    ]
    for station in site.stations:
        lines += [
            "",
            f"user {station.id}",
            f"topic write {topics.readings(station.id)}",
            f"topic write {topics.station_status(station.id)}",
        ]
    return "\n".join(lines) + "\n"


def security(site: Site, topics: Topics, keep: dict[str, str] | None = None) -> BrokerSecurity:
    """Users, ACL and password file for the site; `keep` holds passwords to carry over."""
    keep = keep or {}
    users = {name: keep.get(name) or new_password() for name in users_of(site)}
    password_file = "".join(f"{name}:{password_hash(pw)}\n" for name, pw in users.items())
    return BrokerSecurity(users, acl_text(site, topics), password_file)


def mosquitto_conf(folder: str, port: int, bind: str | None) -> str:
    """A broker configuration that uses the files of `folder`."""
    listener = f"listener {port} {bind}" if bind else f"listener {port}"
    return (
        "# Mosquitto configuration of ECC, written by `ecc mqtt-config`.\n"
        f"{listener}\n"
        "allow_anonymous false\n"
        f"password_file {folder}/passwd\n"
        f"acl_file {folder}/acl\n"
        "persistence true\n"
        f"persistence_location {folder}/data/\n"
        "autosave_interval 5\n"
        "# Past max_queued_messages Mosquitto drops QoS 1 messages of a disconnected persistent\n"
        "# session without a word (Debian's default: 1000): an ingest worker that restarts\n"
        "# must find every reading waiting for it.\n"
        "max_queued_messages 1000000\n"
        "max_inflight_messages 1000\n"
        "persistent_client_expiration 7d\n"
        "# Above the 16 KiB of a reading, so that an oversized one reaches the dead letters.\n"
        "max_packet_size 262144\n"
    )

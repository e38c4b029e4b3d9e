"""Who may do what: the one permission matrix of ECC.

Every route names one permission (see deps.require); a route without one fails the route walk
test. `service` is not a user role: it is the identity of ECC's own workers (a camera worker
publishing over WHIP), which sign their tokens with the installation's secret.
"""

from __future__ import annotations

from typing import Final

ADMIN, OPERATOR, LEADER, CREW, SERVICE = "admin", "operator", "leader", "crew", "service"
USER_ROLES: Final = (ADMIN, OPERATOR, LEADER, CREW)
EVERYONE: Final = frozenset(USER_ROLES)

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    # the site: stations, cameras, vehicles and their live state
    "site.read": EVERYONE | {SERVICE},
    "readings.read": EVERYONE,
    "alerts.read": EVERYONE,
    "alerts.manage": frozenset({ADMIN, OPERATOR}),
    "events.subscribe": EVERYONE | {SERVICE},
    "dead_letters.read": frozenset({ADMIN}),
    "users.manage": frozenset({ADMIN}),
    "audit.read": frozenset({ADMIN, LEADER}),
    "profile.manage": EVERYONE,
    "video.watch": EVERYONE | {SERVICE},
    "video.publish": frozenset({ADMIN, CREW, SERVICE}),
    "recordings.read": frozenset({ADMIN, OPERATOR, LEADER}),
    "vehicles.report": frozenset({ADMIN, CREW}),
    "incidents.read": EVERYONE,
    "incidents.manage": frozenset({ADMIN, OPERATOR}),
    "incidents.note": frozenset({ADMIN, OPERATOR, LEADER, CREW}),
    "incidents.export": frozenset({ADMIN, OPERATOR, LEADER}),
    "talkback": frozenset({ADMIN, OPERATOR, CREW}),
    "config.manage": frozenset({ADMIN}),
    "metrics.read": frozenset({ADMIN, SERVICE}),
}


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]

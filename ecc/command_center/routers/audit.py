"""The audit log: who changed what, when and from where."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ecc import times
from ecc.command_center.deps import Principal, StoreDep, allow
from ecc.command_center.params import time_param

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("")
def list_audit(
    store: StoreDep,
    _: Annotated[Principal, allow("audit.read")],
    since: Annotated[str | None, Query(description="at or after")] = None,
    username: str | None = None,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> list[dict[str, Any]]:
    entries = store.audit.list(
        since=time_param("since", since), username=username, action=action, limit=limit
    )
    return [
        {
            "id": e.id,
            "ts": times.iso(e.ts),
            "action": e.action,
            "username": e.username,
            "target": e.target,
            "address": e.address,
            "status": e.status,
            "detail": e.detail,
        }
        for e in entries
    ]

"""Rejected bus messages, for admins: what came in, on which topic, and why it was refused."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ecc import times
from ecc.command_center.deps import Principal, StoreDep, allow
from ecc.command_center.params import time_param

router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])


@router.get("")
def list_dead_letters(
    store: StoreDep,
    _: Annotated[Principal, allow("dead_letters.read")],
    since: Annotated[str | None, Query(description="received at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> list[dict[str, Any]]:
    """Oldest first. `payload` is the raw text when it is UTF-8; `payload_base64` always."""
    out = []
    for d in store.dead_letters.list(since=time_param("since", since), limit=limit):
        try:
            text: str | None = d.raw.decode()
        except UnicodeDecodeError:
            text = None
        out.append(
            {
                "id": d.id,
                "received_at": times.iso(d.received_at),
                "topic": d.topic,
                "reason": d.reason,
                "payload": text,
                "payload_base64": base64.b64encode(d.raw).decode(),
                "bytes": len(d.raw),
            }
        )
    return out

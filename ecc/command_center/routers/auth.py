"""POST /api/auth/login: a password for a token, with failed attempts limited."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from ecc import times
from ecc.command_center.auth import verify_password
from ecc.command_center.deps import SettingsDep, StoreDep
from ecc.command_center.metrics import Metrics
from ecc.storage.models import AuditEntry
from ecc.tokens import Tokens

router = APIRouter(prefix="/api/auth", tags=["auth"])

FAILED = "auth.login_failed"


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    token: str
    role: str
    expires_at: str
    username: str
    language: str


@router.post("/login", response_model=LoginResponse)
def login(
    body: LoginRequest, request: Request, store: StoreDep, settings: SettingsDep
) -> LoginResponse:
    address = request.client.host if request.client else None
    metrics: Metrics = request.app.state.metrics
    now = time.time()
    since = now - settings.auth.login_window_s
    limit = settings.auth.login_max_failures
    # Failures are counted from the audit log, so every node of a cluster sees the same count.
    if store.audit.count(FAILED, since, username=body.username) >= limit or (
        address is not None and store.audit.count(FAILED, since, address=address) >= limit
    ):
        metrics.logins_failed.labels("locked").inc()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many failed logins; try again in {settings.auth.login_window_s // 60} min",
            headers={"Retry-After": str(settings.auth.login_window_s)},
        )
    user = store.users.get(body.username)
    ok = verify_password(user.password_hash if user else None, body.password)
    if user is None or not ok or user.disabled:
        reason = "disabled" if user is not None and ok else "bad_credentials"
        metrics.logins_failed.labels(reason).inc()
        store.audit.add(AuditEntry(now, FAILED, body.username, address=address, status=401))
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="account disabled" if reason == "disabled" else "wrong username or password",
        )
    tokens: Tokens = request.app.state.tokens
    token, claims = tokens.issue(user.username, user.role)
    store.audit.add(AuditEntry(now, "auth.login", user.username, address=address, status=200))
    return LoginResponse(
        token=token,
        role=user.role,
        expires_at=times.iso(int(claims.exp)),
        username=user.username,
        language=user.language,
    )

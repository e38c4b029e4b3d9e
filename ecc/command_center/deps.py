"""Dependencies of the routes, as Annotated aliases (FastAPI "bigger applications" style)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ecc.command_center.permissions import SERVICE, allowed
from ecc.config import Settings, Site
from ecc.storage import Store
from ecc.tokens import TokenError, Tokens

bearer = HTTPBearer(auto_error=False, description="a token from POST /api/auth/login")


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: str
    language: str = "zh-CN"
    timezone: str | None = None


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_site(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SiteDep = Annotated[Site, Depends(get_site)]


class Principals:
    """Who a token belongs to, looked up in the store and cached for a few seconds.

    The lookup makes a disabled user or a changed role count at once (within the cache time)
    instead of when the token expires.
    """

    TTL_S = 3.0

    def __init__(self, tokens: Tokens, store: Store) -> None:
        self.tokens = tokens
        self._store = store
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    def authenticate(self, token: str) -> Principal:
        """Blocking (may read the store): call from a worker thread. Raises TokenError."""
        claims = self.tokens.verify(token)
        if claims.role == SERVICE:
            return Principal(username=claims.sub, role=SERVICE)
        now = time.monotonic()
        hit = self._cache.get(claims.sub)
        if hit is None or now - hit[0] > self.TTL_S:
            user = self._store.users.get(claims.sub)
            principal = (
                None
                if user is None or user.disabled
                else Principal(user.username, user.role, user.language, user.timezone)
            )
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[claims.sub] = hit = (now, principal)
        if hit[1] is None:
            raise TokenError("the token's user no longer exists or is disabled")
        return hit[1]

    def forget(self, username: str) -> None:
        self._cache.pop(username, None)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


class Require:
    """Dependency that authenticates the request and checks one permission of the matrix."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise unauthorized("missing bearer token (log in at POST /api/auth/login)")
        principals: Principals = request.app.state.principals
        try:
            principal = principals.authenticate(credentials.credentials)
        except TokenError as exc:
            raise unauthorized(str(exc)) from None
        request.state.principal = principal
        if not allowed(principal.role, self.permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role} may not {self.permission}",
            )
        return principal


def allow(permission: str) -> Any:
    """`user: Annotated[Principal, allow("alerts.manage")]` in a route signature."""
    return Depends(Require(permission))

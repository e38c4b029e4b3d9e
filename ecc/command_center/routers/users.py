"""Users (admin) and the caller's own profile."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field, field_validator

from ecc.command_center.auth import hash_password
from ecc.command_center.deps import Principal, Principals, StoreDep, allow
from ecc.command_center.permissions import PERMISSIONS
from ecc.storage.models import User

router = APIRouter(prefix="/api", tags=["users"])

Language = Literal["zh-CN", "en"]
UserRole = Literal["admin", "operator", "leader", "crew"]
USERNAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _check_tz(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}") from None
    return v


class UserPublic(BaseModel):
    username: str
    role: str
    disabled: bool
    language: str
    timezone: str | None

    @classmethod
    def of(cls, u: User) -> UserPublic:
        return cls(
            username=u.username,
            role=u.role,
            disabled=u.disabled,
            language=u.language,
            timezone=u.timezone,
        )


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME)
    password: str = Field(min_length=8, max_length=1024)
    role: UserRole
    language: Language = "zh-CN"


class UserUpdate(BaseModel):
    role: UserRole | None = None
    password: str | None = Field(None, min_length=8, max_length=1024)
    disabled: bool | None = None


class ProfileUpdate(BaseModel):
    language: Language | None = Field(None, description="zh-CN or en; leave out to keep")
    timezone: str | None = Field(None, description="IANA zone; null for the site's")

    _tz = field_validator("timezone")(_check_tz)

    @field_validator("language")
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        if v is None:
            raise ValueError("cannot be null: give zh-CN or en, or leave it out")
        return v


@router.get("/users", response_model=list[UserPublic])
def list_users(store: StoreDep, _: Annotated[Principal, allow("users.manage")]) -> list[UserPublic]:
    return [UserPublic.of(u) for u in store.users.list()]


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def add_user(
    body: UserCreate, store: StoreDep, _: Annotated[Principal, allow("users.manage")]
) -> UserPublic:
    user = User(
        username=body.username,
        role=body.role,
        password_hash=hash_password(body.password),
        created_at=time.time(),
        language=body.language,
    )
    store.users.add(user)
    return UserPublic.of(user)


@router.patch("/users/{username}", response_model=UserPublic)
def update_user(
    username: str,
    body: UserUpdate,
    request: Request,
    store: StoreDep,
    _: Annotated[Principal, allow("users.manage")],
) -> UserPublic:
    changes: dict[str, Any] = body.model_dump(exclude_none=True, exclude={"password"})
    if body.password is not None:
        changes["password_hash"] = hash_password(body.password)
    user = store.users.update(username, **changes)
    principals: Principals = request.app.state.principals
    principals.forget(username)
    return UserPublic.of(user)


@router.get("/me")
def me(user: Annotated[Principal, allow("profile.manage")]) -> dict[str, Any]:
    """Who the token belongs to, and what that role may do (the dashboard shows only that)."""
    return {
        "username": user.username,
        "role": user.role,
        "language": user.language,
        "timezone": user.timezone,
        "permissions": sorted(p for p, roles in PERMISSIONS.items() if user.role in roles),
    }


@router.patch("/me")
def update_me(
    body: ProfileUpdate,
    request: Request,
    store: StoreDep,
    user: Annotated[Principal, allow("profile.manage")],
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    updated = store.users.update(user.username, **changes)
    principals: Principals = request.app.state.principals
    principals.forget(user.username)
    return {
        "username": updated.username,
        "language": updated.language,
        "timezone": updated.timezone,
    }

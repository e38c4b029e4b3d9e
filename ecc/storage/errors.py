"""Errors every backend raises the same way, so callers never see a driver's exception."""

from __future__ import annotations


class StoreError(Exception):
    pass


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    """The change breaks a uniqueness rule (a user that exists, a second open alert)."""


class InvalidTransition(StoreError):
    """The change is not allowed from the current state (acknowledging a resolved alert)."""

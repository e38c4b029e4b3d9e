from __future__ import annotations

import pytest

from ecc.command_center.auth import hash_password, verify_password
from ecc.command_center.permissions import PERMISSIONS, USER_ROLES, allowed
from ecc.tokens import TokenError, Tokens


def test_tokens_round_trip_and_refuse_tampering() -> None:
    tokens = Tokens(b"k1", ttl_s=60)
    token, claims = tokens.issue("op", "operator")
    assert tokens.verify(token).sub == "op"
    assert claims.exp - claims.iat == pytest.approx(60)
    with pytest.raises(TokenError, match="signature"):
        Tokens(b"k2", 60).verify(token)
    head, payload, sig = token.split(".")
    with pytest.raises(TokenError, match="signature"):
        tokens.verify(f"{head}.{payload}x.{sig}")
    with pytest.raises(TokenError, match="malformed"):
        tokens.verify("garbage")


def test_expired_token_is_refused() -> None:
    tokens = Tokens(b"k", ttl_s=60)
    token, _ = tokens.issue("op", "operator", ttl_s=-1)
    with pytest.raises(TokenError, match="expired"):
        tokens.verify(token)


def test_passwords() -> None:
    h = hash_password("s3cret pass")
    assert h.startswith("$argon2")
    assert verify_password(h, "s3cret pass")
    assert not verify_password(h, "wrong")
    assert not verify_password(None, "anything")
    assert not verify_password("not a hash", "x")


def test_permission_matrix_is_complete() -> None:
    for permission, roles in PERMISSIONS.items():
        assert roles, permission
        assert roles <= set(USER_ROLES) | {"service"}, permission
    assert allowed("admin", "users.manage") and not allowed("operator", "users.manage")
    assert allowed("operator", "alerts.manage") and not allowed("leader", "alerts.manage")

"""Signed, expiring bearer tokens, shared by every ECC process.

A token is `v1.<payload>.<signature>`: base64url JSON `{sub, role, iat, exp}` and its HMAC-SHA256
under the installation's secret. Every node and worker shares the secret, so any of them can
issue or check a token without asking another: the center checks users' tokens, and ECC's own
workers (a camera worker publishing over WHIP) sign theirs with the `service` role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

import orjson


class TokenError(Exception):
    """The token cannot be used; the message says why (expired, bad signature, malformed)."""


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str
    role: str
    iat: float
    exp: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    def __init__(self, secret: bytes, ttl_s: float) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def issue(self, sub: str, role: str, ttl_s: float | None = None) -> tuple[str, Claims]:
        now = time.time()
        claims = Claims(sub=sub, role=role, iat=now, exp=now + (ttl_s or self.ttl_s))
        body = "v1." + _b64(orjson.dumps({"sub": sub, "role": role, "iat": now, "exp": claims.exp}))
        return f"{body}.{self._sign(body)}", claims

    def verify(self, token: str) -> Claims:
        version, _, rest = token.partition(".")
        payload, _, signature = rest.partition(".")
        if version != "v1" or not payload or not signature:
            raise TokenError("malformed token")
        if not hmac.compare_digest(signature, self._sign(f"v1.{payload}")):
            raise TokenError("token signature is not valid")
        try:
            data = orjson.loads(_unb64(payload))
            claims = Claims(
                sub=str(data["sub"]),
                role=str(data["role"]),
                iat=float(data["iat"]),
                exp=float(data["exp"]),
            )
        except (ValueError, KeyError, TypeError):
            raise TokenError("malformed token") from None
        if claims.exp < time.time():
            raise TokenError("token expired")
        return claims

"""Access tokens: HMAC-signed JWTs (PyJWT) carrying the identity, its scopes and an expiry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ISSUER = "fepflow"
ACCESS = "access"


class TokenError(Exception):
    """A token that is missing, malformed, tampered with, expired or meant for something else."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    scopes: tuple[str, ...]
    expires_at: datetime
    purpose: str = ACCESS
    extra: dict[str, Any] = field(default_factory=dict)
    issued_at: datetime | None = None

    @property
    def auth_time(self) -> datetime | None:
        """When the session began (the login a chain of refreshed tokens goes back to): the
        ``auth_time`` claim, else the moment this token was issued."""
        value = self.extra.get("auth_time")
        if isinstance(value, int) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        return self.issued_at


def encode_token(
    subject: str,
    scopes: list[str] | tuple[str, ...],
    *,
    secret: str,
    algorithm: str = "HS256",
    ttl: timedelta = timedelta(hours=1),
    purpose: str = ACCESS,
    extra: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """A signed token and the moment it expires."""
    issued = now or datetime.now(UTC)
    expires = issued + ttl
    payload: dict[str, Any] = {
        **(extra or {}),
        "sub": subject,
        "scopes": list(scopes),
        "purpose": purpose,
        "iss": ISSUER,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm=algorithm), expires


def decode_token(token: str, *, secret: str, algorithm: str = "HS256", purpose: str = ACCESS) -> TokenClaims:
    """Verify signature, issuer, expiry and purpose; raise :class:`TokenError` otherwise."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired; log in again", expired=True) from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    if payload.get("purpose") != purpose:
        raise TokenError(f"this token is not a {purpose} token")
    scopes = payload.get("scopes")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise TokenError("invalid token: scopes must be a list of strings")
    known = {"sub", "scopes", "purpose", "iss", "iat", "exp", "jti"}
    return TokenClaims(
        subject=str(payload["sub"]),
        scopes=tuple(scopes),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        purpose=purpose,
        extra={k: v for k, v in payload.items() if k not in known},
        issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
    )

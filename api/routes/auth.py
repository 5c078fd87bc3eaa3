"""OAuth2 password flow: identifier and secret in, a signed JWT with an expiry out.

Logins are limited per client address and per identifier (429 with Retry-After), and at most
``login_concurrency`` secrets are verified at once (argon2id holds 19 MiB each): a login that finds
no free slot within ``login_wait_s`` gets 503 with Retry-After. A token refreshes into a new one of
the same session until the session is ``session_max_h`` old; then the caller logs in again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import AuthSettingsDep, ClaimsDep, IdentitiesDep, unauthorized
from fepflow.hub.schemas import Token, WhoAmI
from fepflow.settings import AuthSettings
from fepflow.store.identities import Identity

router = APIRouter(prefix="/auth", tags=["auth"])


def issue(
    identity: Identity, auth: AuthSettings, *, auth_time: datetime | None = None, ttl: timedelta | None = None
) -> Token:
    return Token.issue(
        identity.identifier,
        list(identity.scopes),
        auth,
        ttl or timedelta(minutes=auth.token_ttl_min),
        auth_time=auth_time,
    )


@router.post("/token", summary="Log in (OAuth2 password flow): returns a bearer token", response_model=Token)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    identities: IdentitiesDep,
    auth: AuthSettingsDep,
) -> Token:
    client = request.client.host if request.client else "unknown"
    limited = request.app.state.login_limiter.attempt(client, form.username)
    if limited is not None:
        what, wait_s = limited
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many login attempts for {what}; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )
    slots = request.app.state.login_slots
    if not slots.acquire(timeout=auth.login_wait_s):
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "too many logins are being verified at once; try again shortly",
            headers={"Retry-After": "1"},
        )
    try:
        identity = identities.authenticate(form.username, form.password)
    finally:
        slots.release()
    if identity is None:
        raise unauthorized("wrong identifier or secret")
    return issue(identity, auth)


@router.post(
    "/refresh", summary="A fresh token of the same session for a still-valid one", response_model=Token
)
def refresh(claims: ClaimsDep, identities: IdentitiesDep, auth: AuthSettingsDep) -> Token:
    identity = identities.get(claims.subject)
    if identity is None or identity.disabled:
        raise unauthorized("this identity no longer exists or is disabled")
    began = claims.auth_time or datetime.now(UTC)
    left = began + timedelta(hours=auth.session_max_h) - datetime.now(UTC)
    if left <= timedelta(seconds=1):
        raise unauthorized(
            f"the session began at {began:%Y-%m-%d %H:%M} UTC, more than {auth.session_max_h:g} h ago "
            "(FEPFLOW_AUTH_SESSION_MAX_H); log in again"
        )
    return issue(identity, auth, auth_time=began, ttl=min(timedelta(minutes=auth.token_ttl_min), left))


@router.get("/whoami", summary="The caller's identity and scopes", response_model=WhoAmI)
def whoami(claims: ClaimsDep) -> WhoAmI:
    return WhoAmI(
        identity=claims.subject, scopes=list(claims.scopes), expires_at=claims.expires_at.astimezone(UTC)
    )


__all__ = ["datetime", "issue", "router"]

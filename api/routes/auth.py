"""OAuth2 password flow: identifier and secret in, a signed JWT with an expiry out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import AuthSettingsDep, ClaimsDep, IdentitiesDep, unauthorized
from fepflow.hub.schemas import Token, WhoAmI
from fepflow.settings import AuthSettings
from fepflow.store.identities import Identity

router = APIRouter(prefix="/auth", tags=["auth"])


def issue(identity: Identity, auth: AuthSettings) -> Token:
    return Token.issue(
        identity.identifier, list(identity.scopes), auth, timedelta(minutes=auth.token_ttl_min)
    )


@router.post("/token", summary="Log in (OAuth2 password flow): returns a bearer token", response_model=Token)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], identities: IdentitiesDep, auth: AuthSettingsDep
) -> Token:
    identity = identities.authenticate(form.username, form.password)
    if identity is None:
        raise unauthorized("wrong identifier or secret")
    return issue(identity, auth)


@router.post("/refresh", summary="A fresh token for a still-valid one", response_model=Token)
def refresh(claims: ClaimsDep, identities: IdentitiesDep, auth: AuthSettingsDep) -> Token:
    identity = identities.get(claims.subject)
    if identity is None or identity.disabled:
        raise unauthorized("this identity no longer exists or is disabled")
    return issue(identity, auth)


@router.get("/whoami", summary="The caller's identity and scopes", response_model=WhoAmI)
def whoami(claims: ClaimsDep) -> WhoAmI:
    return WhoAmI(
        identity=claims.subject, scopes=list(claims.scopes), expires_at=claims.expires_at.astimezone(UTC)
    )


__all__ = ["datetime", "issue", "router"]

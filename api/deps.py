"""Dependencies shared by the hub's routes: settings, the stores, and the caller's verified identity.

They are ``async`` because none of them blocks (token checks are CPU only): FastAPI then calls them
on the event loop instead of sending each one through its thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from fepflow.auth.tokens import TokenClaims, TokenError, decode_token
from fepflow.settings import ApiSettings, AuthSettings
from fepflow.store.identities import IdentityStore
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

TOKEN_URL = "/api/v1/auth/token"
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


async def get_index(request: Request) -> Index:
    return request.app.state.index  # type: ignore[no-any-return]


async def get_objects(request: Request) -> ObjectStore:
    return request.app.state.objects  # type: ignore[no-any-return]


async def get_api_settings(request: Request) -> ApiSettings:
    return request.app.state.api_settings  # type: ignore[no-any-return]


async def get_auth_settings(request: Request) -> AuthSettings:
    return request.app.state.auth_settings  # type: ignore[no-any-return]


async def get_identities(request: Request) -> IdentityStore:
    return request.app.state.index.identities  # type: ignore[no-any-return]


def unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


async def current_claims(request: Request, token: Annotated[str | None, Depends(bearer)]) -> TokenClaims:
    """The verified claims of the bearer token; 401 when it is missing, expired or tampered with."""
    if not token:
        raise unauthorized(
            "not authenticated: send 'Authorization: Bearer <token>' (POST /api/v1/auth/token)"
        )
    auth: AuthSettings = request.app.state.auth_settings
    try:
        return decode_token(token, secret=auth.secret_key.get_secret_value(), algorithm=auth.algorithm)
    except TokenError as exc:
        raise unauthorized(str(exc)) from None


IndexDep = Annotated[Index, Depends(get_index)]
ObjectsDep = Annotated[ObjectStore, Depends(get_objects)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]
AuthSettingsDep = Annotated[AuthSettings, Depends(get_auth_settings)]
IdentitiesDep = Annotated[IdentityStore, Depends(get_identities)]
ClaimsDep = Annotated[TokenClaims, Depends(current_claims)]

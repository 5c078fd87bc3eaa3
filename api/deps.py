"""Dependencies shared by the hub's routes: settings, the stores, and the caller's verified identity.

They are ``async`` because none of them blocks (token checks are CPU only; the identity behind a
token is looked up in the thread pool only when it is not cached): FastAPI then calls them on the
event loop instead of sending each one through its thread pool.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from api.scoping import visible_drs_objects, visible_results
from fepflow.auth.scopes import scope_allows
from fepflow.auth.tokens import TokenClaims, TokenError, decode_token
from fepflow.settings import ApiSettings, AuthSettings
from fepflow.store.identities import Identity, IdentityStore
from fepflow.store.index import Index
from fepflow.store.lookup import (
    DRS_TYPES,
    RESULT_TYPES,
    TASK_TYPES,
    TRANSFORMATION_TYPES,
    AmbiguousKey,
    is_drs_prefix,
    is_full_key,
    resolve_keys,
    resolve_network,
)
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


class IdentityCache:
    """Identities looked up for tokens, trusted for ``ttl_s``: a disabled or removed identity's
    tokens and links stop working within that time. Each hub process has its own."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._data: dict[str, tuple[float, Identity | None]] = {}

    def get(self, subject: str) -> tuple[bool, Identity | None]:
        """(found and fresh, the identity or None for a missing one)."""
        hit = self._data.get(subject)
        if hit is None or time.monotonic() - hit[0] >= self.ttl_s:
            return False, None
        return True, hit[1]

    def put(self, subject: str, identity: Identity | None) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._data) >= MAX_CACHED_IDENTITIES:
            self._data.clear()
        self._data[subject] = (time.monotonic(), identity)


MAX_CACHED_IDENTITIES = 10_000


def _usable(subject: str, identity: Identity | None) -> Identity:
    if identity is None or identity.disabled:
        raise unauthorized(
            f"identity {subject!r} no longer exists or is disabled; its tokens and links are void"
        )
    return identity


def active_identity(state: Any, subject: str) -> Identity:
    """The identity ``subject`` when it still exists and is enabled (looked up, or cached for
    ``identity_cache_s``); 401 otherwise. Blocks on MongoDB on a cache miss."""
    cache: IdentityCache = state.identity_cache
    hit, identity = cache.get(subject)
    if not hit:
        identity = state.index.identities.get(subject)
        cache.put(subject, identity)
    return _usable(subject, identity)


async def current_claims(request: Request, token: Annotated[str | None, Depends(bearer)]) -> TokenClaims:
    """The verified claims of the bearer token; 401 when it is missing, expired or tampered with, or
    its identity was disabled or removed since it was issued."""
    if not token:
        raise unauthorized(
            "not authenticated: send 'Authorization: Bearer <token>' (POST /api/v1/auth/token)"
        )
    auth: AuthSettings = request.app.state.auth_settings
    try:
        claims = decode_token(token, secret=auth.secret_key.get_secret_value(), algorithm=auth.algorithm)
    except TokenError as exc:
        raise unauthorized(str(exc)) from None
    state = request.app.state
    hit, identity = state.identity_cache.get(claims.subject)
    if hit:
        _usable(claims.subject, identity)
    else:  # a MongoDB lookup: off the event loop
        await run_in_threadpool(active_identity, state, claims.subject)
    return claims


def ambiguous(exc: AmbiguousKey) -> HTTPException:
    """409: the name or prefix matches several objects (listed; all of them in the caller's scopes)."""
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


def network_ref(index: Index, claims: TokenClaims, ref: str) -> str:
    """The whole key of the network ``ref`` names in the caller's scopes (key, key prefix or name):
    404 when none, 409 listing the candidates when several. Blocks on MongoDB for a short ``ref``."""
    try:
        return resolve_network(index.networks.coll, ref, claims.scopes)
    except AmbiguousKey as exc:
        raise ambiguous(exc) from None


def _seen_by(index: Index, claims: TokenClaims) -> Any:
    def seen(docs: list[dict[str, Any]]) -> set[str]:
        nets = sorted({n for d in docs for n in d.get("networks", [])})
        scopes = index.networks.scopes_by_key(nets)
        shown = {n for n, s in scopes.items() if any(scope_allows(claims.scopes, x) for x in s)}
        return {str(d["_id"]) for d in docs if shown.intersection(d.get("networks", []))}

    return seen


def task_refs(index: Index, claims: TokenClaims, refs: list[str]) -> list[str]:
    """The whole keys of tasks given by key or unique key prefix (404 / 409 as :func:`network_ref`)."""
    try:
        return resolve_keys(index.tasks.coll, "task", refs, TASK_TYPES, _seen_by(index, claims))
    except AmbiguousKey as exc:
        raise ambiguous(exc) from None


def transformation_refs(index: Index, claims: TokenClaims, refs: list[str]) -> list[str]:
    """The whole keys of transformations given by key or unique key prefix (404 / 409)."""
    coll = index.transformations.coll
    try:
        return resolve_keys(coll, "transformation", refs, TRANSFORMATION_TYPES, _seen_by(index, claims))
    except AmbiguousKey as exc:
        raise ambiguous(exc) from None


def result_ref(index: Index, claims: TokenClaims, ref: str) -> str:
    """The whole key of the result given by key or unique key prefix (404 / 409): only results the
    caller may read (see :func:`api.scoping.visible_results`) are candidates."""

    def seen(docs: list[dict[str, Any]]) -> set[str]:
        return visible_results(index, claims, docs)

    coll = index.results.coll
    try:
        return resolve_keys(coll, "result", [ref], RESULT_TYPES, seen, fields=("task", "transformation"))[0]
    except AmbiguousKey as exc:
        raise ambiguous(exc) from None


def drs_ref(index: Index, claims: TokenClaims, ref: str) -> str:
    """The whole id of the DRS object a unique id prefix (4 to 31 hex digits) names among the
    objects the caller may see (404 / 409, candidates listed with their names); any other ``ref`` is
    returned as it is, to be looked up as a whole id."""

    def seen(docs: list[dict[str, Any]]) -> dict[str, str | None]:
        found = visible_drs_objects(index, claims, [str(d["_id"]) for d in docs])
        return {i: d.get("name") for i, d in found.items()}

    try:
        return resolve_keys(
            index.results.drs,
            "DRS object",
            [ref],
            DRS_TYPES,
            seen,
            fields=(),
            whole=lambda r: not is_drs_prefix(r),
        )[0]
    except AmbiguousKey as exc:
        raise ambiguous(exc) from None


KEY_HELP = "whole key, a unique prefix of its hex digits (4 or more), or (networks) the network's name"


async def network_key(
    key: Annotated[str, Path(description=f"the network: {KEY_HELP}")],
    claims: Annotated[TokenClaims, Depends(current_claims)],
    request: Request,
) -> str:
    """The path's network as a whole key; a whole key is passed on unchecked (routes check it)."""
    if is_full_key(key):
        return key
    return await run_in_threadpool(network_ref, request.app.state.index, claims, key)


async def transformation_key(
    key: Annotated[str, Path(description=f"the transformation: {KEY_HELP}")],
    claims: Annotated[TokenClaims, Depends(current_claims)],
    request: Request,
) -> str:
    if is_full_key(key):
        return key
    return (await run_in_threadpool(transformation_refs, request.app.state.index, claims, [key]))[0]


async def task_key(
    key: Annotated[str, Path(description=f"the task: {KEY_HELP}")],
    claims: Annotated[TokenClaims, Depends(current_claims)],
    request: Request,
) -> str:
    if is_full_key(key):
        return key
    return (await run_in_threadpool(task_refs, request.app.state.index, claims, [key]))[0]


IndexDep = Annotated[Index, Depends(get_index)]
ObjectsDep = Annotated[ObjectStore, Depends(get_objects)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]
AuthSettingsDep = Annotated[AuthSettings, Depends(get_auth_settings)]
IdentitiesDep = Annotated[IdentityStore, Depends(get_identities)]
ClaimsDep = Annotated[TokenClaims, Depends(current_claims)]
NetworkKey = Annotated[str, Depends(network_key)]
TransformationKey = Annotated[str, Depends(transformation_key)]
TaskKey = Annotated[str, Depends(task_key)]

"""``Idempotency-Key`` for POSTs that add work (tasks/extend, networks/{key}/repeats): the first request
with a key does the work, and its retries (the same caller, key and body) get the first answer again,
marked ``Idempotent-Replayed: true``. Without the header every request is new work."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Annotated, Any

from fastapi import Header, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fepflow.auth.tokens import TokenClaims
from fepflow.store.idempotency import Answer, KeyInProgress, KeyReused
from fepflow.store.index import Index

HEADER = "Idempotency-Key"
IN_PROGRESS_RETRY_S = 1

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="a client-chosen key (one per logical request, the same on its retries): a retry "
        "gets the first answer again instead of doing the work twice; keys are kept 24 h",
    ),
]

RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "the first request with this Idempotency-Key is still being worked on (Retry-After)"
    },
    422: {"description": "invalid request, or an Idempotency-Key already used with another request"},
}


def once(
    request: Request,
    index: Index,
    claims: TokenClaims,
    key: str | None,
    body: BaseModel,
    work: Callable[[], BaseModel],
) -> Any:
    """``work()`` once per (caller, ``key``, request); the stored first answer for a retry."""
    if key is None:
        return work()
    store = index.idempotency
    fingerprint = store.fingerprint(request.method, request.url.path, body.model_dump_json())
    try:
        first = store.begin(claims.subject, key, fingerprint)
    except KeyReused:
        msg = f"{HEADER} {key!r} was already used with another request (a new request needs a new key)"
        raise HTTPException(
            422, [{"loc": ["header", HEADER], "msg": msg, "type": "idempotency_key_reused"}]
        ) from None
    except KeyInProgress:
        raise HTTPException(
            409,
            f"the first request with {HEADER} {key!r} is still being worked on; try again shortly",
            headers={"Retry-After": str(IN_PROGRESS_RETRY_S)},
        ) from None
    if first is not None:
        return JSONResponse(first.body, status_code=first.status, headers={"Idempotent-Replayed": "true"})
    try:
        answer = work()
    except BaseException:
        with suppress(Exception):
            store.abandon(claims.subject, key)
        raise
    store.finish(claims.subject, key, Answer(200, jsonable_encoder(answer)))
    return answer

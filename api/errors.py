"""Errors as HTTP answers. Routes under the DRS prefix answer in the spec's ``{msg, status_code}`` form."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.allow import allowed_methods
from fepflow.hub.schemas import DRS_PREFIX
from fepflow.models.base import ModelError
from fepflow.models.states import InvalidTransition
from fepflow.planning import PlanningError
from fepflow.store.models import NotFound
from fepflow.store.outages import UNAVAILABLE, which_store
from fepflow.store.results import ResultNotFound
from fepflow.store.tasks import TaskNotFound, TransitionConflict

_MOLECULE = re.compile(r"molecule '([^']+)'")  # how model errors name the molecule they are about
RETRY_AFTER_S = 5
"""What a 503 for an unreachable store tells the client to wait, in seconds (``Retry-After``)."""
log = logging.getLogger("fepflow.hub")


class TooLarge(Exception):
    """A submission over a configured count limit (molecules, edges)."""


def _is_drs(request: Request) -> bool:
    return request.url.path.startswith(DRS_PREFIX)


def _answer(
    request: Request, status: int, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    if _is_drs(request):
        msg = detail if isinstance(detail, str) else "; ".join(str(d.get("msg", d)) for d in detail)
        return JSONResponse({"msg": msg, "status_code": status}, status_code=status, headers=headers)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        allowed = allowed_methods(app.openapi(), request.url.path) if exc.status_code == 405 else []
        if allowed:  # every method of the resource, not only the first matching route's
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return _answer(request, exc.status_code, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return _answer(request, 400 if _is_drs(request) else 422, errors)

    @app.exception_handler(PlanningError)
    async def _molecule(request: Request, exc: PlanningError) -> JSONResponse:
        if exc.index is None:  # about the network as a whole, not one molecule
            return await _model(request, exc)
        field = getattr(exc, "field", "ligands")
        detail = [
            {
                "loc": ["body", field, exc.index],
                "msg": str(exc),
                "type": "molecule_error",
                "molecule": exc.name,
            }
        ]
        return _answer(request, 422, detail)

    @app.exception_handler(ModelError)
    async def _model(request: Request, exc: ModelError) -> JSONResponse:
        field = getattr(exc, "field", None)
        loc = ["body", field] if field else ["body"]
        error: dict[str, Any] = {"loc": loc, "msg": str(exc), "type": "model_error"}
        named = _MOLECULE.search(str(exc))
        if named:
            error["molecule"] = named.group(1)
        return _answer(request, 422, [error])

    @app.exception_handler(TooLarge)
    async def _too_large(request: Request, exc: TooLarge) -> JSONResponse:
        return _answer(request, 413, str(exc))

    for cls in (NotFound, TaskNotFound, ResultNotFound):

        @app.exception_handler(cls)
        async def _missing(request: Request, exc: Exception) -> JSONResponse:
            return _answer(request, 404, str(exc))

    @app.exception_handler(InvalidTransition)
    async def _invalid(request: Request, exc: InvalidTransition) -> JSONResponse:
        return _answer(request, 409, str(exc))

    @app.exception_handler(TransitionConflict)
    async def _conflict(request: Request, exc: TransitionConflict) -> JSONResponse:
        return _answer(request, 409, str(exc))

    for outage in UNAVAILABLE:

        @app.exception_handler(outage)
        async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
            # the error names hosts and ports: logged here, not sent to the caller
            store = which_store(exc)
            log.warning("%s %s: %s unavailable: %s", request.method, request.url.path, store, exc)
            detail = f"{store} is unavailable; try again in {RETRY_AFTER_S} s"
            return _answer(request, 503, detail, {"Retry-After": str(RETRY_AFTER_S)})

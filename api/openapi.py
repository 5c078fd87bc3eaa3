"""The hub's OpenAPI document, with every answer an operation can give documented, so that generated
clients and schemathesis (``tests/integration/test_api_openapi.py``) can trust it.

FastAPI documents the success answer and 422; the hub also answers, wherever they apply:

* 401 (no, expired or void token; a bad signed link; wrong login) and 403 (outside the caller's
  scopes, or shared with work outside them) on every operation that needs a token;
* 404 (no such key, or one outside the caller's scopes) on every operation naming something;
* 409 (a name or key prefix matching several objects, an idempotency key still in use, a network
  that is not relative) on every operation that takes a token;
* 400 (a body that is not JSON at all) and 413 (body too large) on every operation with a body; 429 (login attempts) on the login;
* 503 (MongoDB or the object store unreachable; ``Retry-After``) everywhere.

Under the GA4GH DRS prefix errors have the spec's ``{msg, status_code}`` form and bad input is a 400,
not a 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from fepflow.hub.schemas import DRS_PREFIX

ERROR = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {"title": "Detail", "description": "what went wrong (text, or a list of errors)"}
    },
    "required": ["detail"],
}
DRS_ERROR = {
    "title": "DrsError",
    "type": "object",
    "properties": {"msg": {"type": "string"}, "status_code": {"type": "integer"}},
    "required": ["msg", "status_code"],
}
WHY = {
    "400": "Bad request: a body that is not JSON (or, under the DRS prefix, any invalid input)",
    "401": "Not authenticated: no token, an expired or void one, a bad signed link, or a wrong login",
    "403": "Outside your scopes, or shared with work outside them",
    "404": "No such object in your scopes",
    "409": "A name or key prefix naming several objects (listed), or work already under way",
    "413": "Request body too large",
    "422": "Validation error",
    "429": "Too many login attempts (see Retry-After)",
    "503": "A store is unreachable (see Retry-After)",
}
OPEN = {"/health", "/version", f"{DRS_PREFIX}/service-info"}
"""Operations that read no store object and need no token (``/health`` still answers 503)."""


def _codes(path: str, op: dict[str, Any]) -> set[str]:
    """The error answers of operation ``op`` on ``path`` (see the module's docstring)."""
    path = path.removeprefix("/api/v1")
    codes = {"503"}
    if path in OPEN:
        return codes
    params = op.get("parameters", [])
    secured = bool(op.get("security"))
    signed = any(p.get("name") == "token" and p.get("in") == "query" for p in params)
    if secured or signed or path == "/auth/token":
        codes |= {"401"}
    if secured:
        codes |= {"403", "409"}
    if params or "requestBody" in op:
        codes |= {"404", "422"}
    if "requestBody" in op:
        codes |= {"400", "413"}
    if path == "/auth/token":
        codes = (codes - {"404"}) | {"429"}
    return codes


def _answer(code: str, drs: bool) -> dict[str, Any]:
    if code == "422" and not drs:
        ref = "#/components/schemas/HTTPValidationError"
    else:
        ref = "#/components/schemas/DrsError" if drs else "#/components/schemas/Error"
    return {"description": WHY[code], "content": {"application/json": {"schema": {"$ref": ref}}}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (an OpenAPI document of the hub) with every error answer documented."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR)
    components.setdefault("DrsError", DRS_ERROR)
    components.setdefault("HTTPValidationError", _validation_schema(components))
    for path, item in schema.get("paths", {}).items():
        drs = path.startswith(DRS_PREFIX)
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = op.setdefault("responses", {})
            codes = _codes(path, op)
            if drs and "422" in codes | set(responses):
                responses.pop("422", None)
                codes = (codes - {"422"}) | {"400"}
            for code in sorted(codes):
                given = responses.get(code, {})
                if not given.get("content"):
                    said = given.get("description")
                    kept = {"description": said} if said and said != "Additional Response" else {}
                    responses[code] = {**_answer(code, drs), **kept}
    return schema


def _validation_schema(components: dict[str, Any]) -> dict[str, Any]:
    components.setdefault(
        "ValidationError",
        {
            "title": "ValidationError",
            "type": "object",
            "properties": {
                "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
            "required": ["loc", "msg", "type"],
        },
    )
    return {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
        },
    }


def install(app: FastAPI) -> None:
    """Make ``app`` serve its OpenAPI document with every error answer documented."""
    plain: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(plain())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

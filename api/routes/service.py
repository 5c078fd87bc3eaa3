"""Service routes: health (503 when a store is unreachable) and version."""

from __future__ import annotations

import platform
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

import fepflow
from api.deps import IndexDep, ObjectsDep

router = APIRouter(tags=["service"])


@router.get("/health", summary="Are MongoDB and the object store reachable?")
def health(index: IndexDep, objects: ObjectsDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        index.ping()
        checks["mongodb"] = "ok"
    except Exception as exc:
        checks["mongodb"] = f"unreachable: {type(exc).__name__}"
    try:
        objects.exists("0" * 64)  # a HEAD (S3) or stat (file): reaches the store, reads nothing
        checks["object_store"] = "ok"
    except Exception as exc:
        checks["object_store"] = f"unreachable: {type(exc).__name__}: {exc}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status_code=200 if healthy else 503
    )


@router.get("/version", summary="Versions of fepflow and its science stack")
def version() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    out = {"fepflow": fepflow.__version__, "python": platform.python_version()}
    for dist in ("openmm", "openmmtools", "pymbar", "rdkit", "dagster", "fastapi"):
        try:
            out[dist] = dist_version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out

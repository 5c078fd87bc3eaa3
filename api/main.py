"""The hub's FastAPI app. Settings are read when the app starts (``create_app``), never at import."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

import fepflow
from api import errors, openapi
from api.cache import TTLCache
from api.deps import IdentityCache
from api.limits import BodyLimitMiddleware
from api.ratelimit import LoginLimiter
from api.routes import auth, drs, networks, pages, results, service, tasks
from api.security import LoopbackGuard, install_access_log_filter
from fepflow.hub.schemas import API_PREFIX
from fepflow.settings import (
    ApiSettings,
    AuthSettings,
    api_settings,
    auth_settings,
    mongo_settings,
    object_store_settings,
    signing_secret_problem,
)
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, open_object_store

log = logging.getLogger(__name__)


def create_app(
    index: Index | None = None,
    objects: ObjectStore | None = None,
    *,
    api: ApiSettings | None = None,
    auth_config: AuthSettings | None = None,
) -> FastAPI:
    """The hub; stores and settings given here (tests) are used as they are, else read from the environment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_index = index is None
        app.state.api_settings = api or api_settings()
        app.state.auth_settings = auth_config or auth_settings()
        guard_keys(app)
        app.state.status_cache = TTLCache(app.state.api_settings.status_cache_s)
        app.state.index = index or Index.from_settings(mongo_settings())
        app.state.objects = objects or open_object_store(object_store_settings())
        with suppress(Exception):
            app.state.index.ensure_indexes()
        try:
            yield
        finally:
            if own_index:
                app.state.index.close()

    app = FastAPI(
        title="fepflow hub",
        version=fepflow.__version__,
        description="Submit alchemical networks, follow tasks, fetch estimates and results (GA4GH DRS).",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(LoopbackGuard)
    errors.install(app)
    openapi.install(app)
    app.include_router(service.router)
    app.include_router(service.router, prefix=API_PREFIX)
    for module in (auth, networks, tasks, results, pages):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(drs.router)
    app.include_router(drs.public)
    app.include_router(pages.public)
    return app


def guard_keys(app: FastAPI) -> None:
    """Refuse a weak signing secret (unless loopback in development, then answer loopback only);
    keep signed links out of the access log; set up the identity cache and the login limits."""
    auth: AuthSettings = app.state.auth_settings
    problem = signing_secret_problem(auth, app.state.api_settings.host)
    if problem:
        log.error("%s", problem)
        raise RuntimeError(problem)
    app.state.weak_secret = auth.weak_secret
    install_access_log_filter()
    app.state.identity_cache = IdentityCache(auth.identity_cache_s)
    app.state.login_limiter = LoginLimiter(auth.login_per_client_per_min, auth.login_per_identity_per_min)
    app.state.login_slots = threading.BoundedSemaphore(auth.login_concurrency)


# Building the app reads nothing and connects to nothing: the lifespan does, when the server starts.
app = create_app()

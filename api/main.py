"""The hub's FastAPI app. Settings are read when the app starts (``create_app``), never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import fepflow
from api.routes import service
from fepflow.settings import mongo_settings, object_store_settings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, open_object_store


def create_app(index: Index | None = None, objects: ObjectStore | None = None) -> FastAPI:
    """The hub; stores given here (tests) are used as they are, else built from the environment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_index = index is None
        app.state.index = index or Index.from_settings(mongo_settings())
        app.state.objects = objects or open_object_store(object_store_settings())
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
    app.include_router(service.router)
    app.include_router(service.router, prefix="/api/v1")
    return app


# Building the app reads nothing and connects to nothing: the lifespan does, when the server starts.
app = create_app()

"""Dependencies shared by the hub's routes: settings, the index and the object store, built once per app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore


def get_index(request: Request) -> Index:
    return request.app.state.index  # type: ignore[no-any-return]


def get_objects(request: Request) -> ObjectStore:
    return request.app.state.objects  # type: ignore[no-any-return]


IndexDep = Annotated[Index, Depends(get_index)]
ObjectsDep = Annotated[ObjectStore, Depends(get_objects)]

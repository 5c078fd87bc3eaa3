"""Which store errors mean "unreachable for now" (trying again later may work), and what to call them.

MongoDB's are pymongo's connection failures (server selection timed out, connection lost or timed out,
no primary); the object store's are :class:`ObjectStoreUnavailable` (endpoint unreachable, 5xx).
"""

from __future__ import annotations

from pymongo.errors import ConnectionFailure

from fepflow.store.objects.base import ObjectStoreUnavailable

UNAVAILABLE: tuple[type[Exception], ...] = (ConnectionFailure, ObjectStoreUnavailable)
"""Exceptions that mean a store is down for now rather than that the request is wrong."""


def which_store(exc: BaseException) -> str:
    """The store an :data:`UNAVAILABLE` error is about, in words (no host, port or credentials)."""
    if isinstance(exc, ConnectionFailure):
        return "the index database (MongoDB)"
    return "the object store"

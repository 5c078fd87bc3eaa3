"""Scope checks: an object outside the caller's scopes is reported exactly like a missing one (404)."""

from __future__ import annotations

from typing import Any

from fepflow.auth.scopes import scope_allows
from fepflow.auth.tokens import TokenClaims
from fepflow.store.batched import find_in
from fepflow.store.index import Index, NotFound


def visible_scopes(claims: TokenClaims, scopes: list[str]) -> list[str]:
    return [s for s in scopes if scope_allows(claims.scopes, s)]


def visible_networks(index: Index, claims: TokenClaims, keys: list[str]) -> set[str]:
    """Those of ``keys`` that are networks the caller may see."""
    if not keys:
        return set()
    docs = find_in(index.db["networks"], "_id", keys, {"scopes": 1})
    return {str(d["_id"]) for d in docs if visible_scopes(claims, d.get("scopes", []))}


def network_doc(index: Index, claims: TokenClaims, key: str) -> dict[str, Any]:
    doc = index.db["networks"].find_one({"_id": key}, {"data": 0})
    if doc is None or not visible_scopes(claims, doc.get("scopes", [])):
        raise NotFound(f"network {key} not found")
    return doc


def transformation_doc(index: Index, claims: TokenClaims, key: str) -> dict[str, Any]:
    doc = index.db["transformations"].find_one({"_id": key}, {"networks": 1, "name": 1, "data.protocol": 1})
    if doc is None or not visible_networks(index, claims, doc.get("networks", [])):
        raise NotFound(f"transformation {key} not found")
    return doc


def task_docs(index: Index, claims: TokenClaims, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Every task of ``keys``; NotFound naming the first one that is missing or out of scope."""
    docs = {str(d["_id"]): d for d in find_in(index.tasks.coll, "_id", keys)}
    networks = visible_networks(index, claims, [n for d in docs.values() for n in d.get("networks", [])])
    for key in keys:
        doc = docs.get(key)
        if doc is None or not networks.intersection(doc.get("networks", [])):
            raise NotFound(f"task {key} not found")
    return docs

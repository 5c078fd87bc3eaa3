"""Keyset pagination: pages follow ``_id`` order, so a page never skips or repeats a document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection

MAX_PAGE = 10_000


@dataclass
class Page:
    """One page of documents and the cursor for the next one (None on the last page)."""

    items: list[dict[str, Any]]
    next_after: str | None


def page_query(
    coll: Collection[dict[str, Any]],
    query: dict[str, Any],
    *,
    limit: int = 100,
    after: str | None = None,
    projection: dict[str, Any] | None = None,
) -> Page:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"page size must be between 1 and {MAX_PAGE}, got {limit}")
    if after is not None:
        query = {"$and": [query, {"_id": {"$gt": after}}]} if query else {"_id": {"$gt": after}}
    docs = list(coll.find(query, projection).sort("_id", ASCENDING).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return Page(items=docs, next_after=str(docs[-1]["_id"]) if more and docs else None)

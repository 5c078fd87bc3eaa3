"""Upserts by key in bulk, tolerant of a concurrent writer inserting the same key first."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


def bulk_upsert(coll: Collection[dict[str, Any]], ops: list[UpdateOne]) -> int:
    """Run upserts unordered; a duplicate-key race with a concurrent submitter is retried once."""
    if not ops:
        return 0
    try:
        return coll.bulk_write(ops, ordered=False).upserted_count
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        first = exc.details.get("nUpserted", 0)
        retry = [ops[e["index"]] for e in errors]
        return int(first) + coll.bulk_write(retry, ordered=False).upserted_count


def insert_new(
    coll: Collection[dict[str, Any]],
    docs: list[dict[str, Any]],
    *,
    add_to_set: dict[str, Any] | None = None,
    set_fields: dict[str, Any] | None = None,
) -> int:
    """Insert the documents (each with its ``_id``) that do not exist yet, and return how many.

    The same outcome as upserts with ``$setOnInsert`` (plus ``$addToSet``/``$set`` on every one), but
    new documents go in with one unordered ``insert_many`` (upserts cost a lookup each: about four
    times slower on the wire servers used here). Documents that exist already, found by their
    duplicate-key errors, only receive ``add_to_set`` and ``set_fields``.
    """
    if not docs:
        return 0
    fresh = [{**doc, **{f: [v] for f, v in (add_to_set or {}).items()}, **(set_fields or {})} for doc in docs]
    try:
        inserted = len(coll.insert_many(fresh, ordered=False).inserted_ids)
        existing: list[Any] = []
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        inserted = int(exc.details.get("nInserted", 0))
        existing = [fresh[e["index"]]["_id"] for e in errors]
    if existing and (add_to_set or set_fields):
        update: dict[str, Any] = {}
        if add_to_set:
            update["$addToSet"] = add_to_set
        if set_fields:
            update["$set"] = set_fields
        if add_to_set and len(add_to_set) == 1 and not set_fields:
            # most often every one holds the value already (a resubmission): read which lack it first
            ((field, value),) = add_to_set.items()
            existing = [
                d["_id"]
                for i in range(0, len(existing), 100)
                for d in coll.find({"_id": {"$in": existing[i : i + 100]}, field: {"$ne": value}}, {"_id": 1})
            ]
        if existing:
            coll.bulk_write([UpdateOne({"_id": key}, update) for key in existing], ordered=False)
    return inserted

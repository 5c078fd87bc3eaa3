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

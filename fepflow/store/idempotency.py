"""Answers to requests sent with an idempotency key, in the MongoDB collection ``idempotency``.

A client that retries a request after a lost answer sends the same key again; the hub answers it with
the first answer instead of doing the work twice (extending a task twice, adding repeats twice). A key
belongs to one caller, and to one request (the same method, path and body): the same key with another
request is refused. Records expire after ``ttl_s`` (a TTL index, and checked on read too).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from fepflow.models.tasks import utcnow

TTL_S = 24 * 3600
"""How long an answer is kept for retries of its request."""
PENDING_S = 120
"""After this long, a request that never finished (its process died) no longer holds its key."""


class IdempotencyError(Exception):
    """A key that cannot be used for this request now."""


class KeyReused(IdempotencyError):
    """The key was sent before with another request (method, path or body)."""


class KeyInProgress(IdempotencyError):
    """The first request with this key is still being worked on."""


@dataclass(frozen=True)
class Answer:
    """The first answer to a key: its HTTP status and JSON body."""

    status: int
    body: Any


class IdempotencyStore:
    """One document per (caller, key): the request's fingerprint, then the answer once it is done."""

    def __init__(self, coll: Collection[dict[str, Any]], *, ttl_s: int = TTL_S, pending_s: int = PENDING_S):
        self.coll, self.ttl_s, self.pending_s = coll, ttl_s, pending_s

    def index_specs(self) -> dict[str, list[IndexModel]]:
        return {
            self.coll.name: [
                IndexModel([("created_at", ASCENDING)], name="expire", expireAfterSeconds=self.ttl_s)
            ]
        }

    @staticmethod
    def _id(owner: str, key: str) -> str:
        return hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()

    @staticmethod
    def fingerprint(*parts: str | bytes) -> str:
        """A digest of what makes a request itself (method, path, body)."""
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part.encode() if isinstance(part, str) else part)
            digest.update(b"\0")
        return digest.hexdigest()

    def begin(self, owner: str, key: str, fingerprint: str) -> Answer | None:
        """None when this request may do its work now (the key is held for it until :meth:`finish`
        or :meth:`abandon`); the first answer when the key was answered before.

        Raises :class:`KeyReused` for a key sent with another request, :class:`KeyInProgress` while
        the first request with the key is still being worked on."""
        _id = self._id(owner, key)
        for _ in range(3):  # an expired or abandoned record is taken over, at most a few times
            now = utcnow()
            try:
                self.coll.insert_one(
                    {"_id": _id, "fingerprint": fingerprint, "state": "pending", "created_at": now}
                )
                return None
            except DuplicateKeyError:
                found = self.coll.find_one({"_id": _id})
            if found is None:
                continue  # expired between the insert and the read
            if found["created_at"] < now - timedelta(seconds=self.ttl_s) or (
                found["state"] == "pending" and found["created_at"] < now - timedelta(seconds=self.pending_s)
            ):
                self.coll.delete_one({"_id": _id, "created_at": found["created_at"]})
                continue
            if found["fingerprint"] != fingerprint:
                raise KeyReused(key)
            if found["state"] == "done":
                return Answer(int(found["status"]), found["body"])
            raise KeyInProgress(key)
        raise KeyInProgress(key)

    def finish(self, owner: str, key: str, answer: Answer) -> None:
        """Keep ``answer`` for the retries of the request that holds ``key``."""
        self.coll.update_one(
            {"_id": self._id(owner, key), "state": "pending"},
            {"$set": {"state": "done", "status": answer.status, "body": answer.body}},
        )

    def abandon(self, owner: str, key: str) -> None:
        """The request failed before its work was done: its key may be sent again."""
        self.coll.delete_one({"_id": self._id(owner, key), "state": "pending"})

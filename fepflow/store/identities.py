"""Identities (users and service accounts) in the MongoDB collection ``identities``, secrets hashed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from fepflow.auth.passwords import hash_secret, needs_rehash, verify_secret
from fepflow.auth.scopes import Scope
from fepflow.models.tasks import utcnow

_NAME = re.compile(r"[A-Za-z0-9_.@+-]{1,128}")
# verified against when the identity does not exist, so a wrong name costs as long as a wrong secret
_DUMMY_HASH = hash_secret("fepflow-no-such-identity")


class IdentityExists(ValueError):
    def __str__(self) -> str:
        return f"identity {self.args[0]!r} already exists"


@dataclass(frozen=True)
class Identity:
    identifier: str
    scopes: tuple[str, ...]
    kind: str = "user"
    disabled: bool = False


class IdentityStore:
    """The ``identities`` collection: ``_id`` is the identifier (unique by construction)."""

    def __init__(self, coll: Collection[dict[str, Any]]) -> None:
        self.coll = coll

    def add(
        self, identifier: str, secret: str, scopes: list[str], *, kind: str = "user", replace: bool = False
    ) -> Identity:
        if not _NAME.fullmatch(identifier):
            raise ValueError(f"identifier {identifier!r}: use 1-128 letters, digits or _.@+-")
        checked = [str(Scope.parse(s)) for s in scopes]
        doc = {
            "kind": kind,
            "secret_hash": hash_secret(secret),
            "scopes": checked,
            "disabled": False,
            "updated_at": utcnow(),
        }
        if replace:
            self.coll.update_one(
                {"_id": identifier}, {"$set": doc, "$setOnInsert": {"created_at": utcnow()}}, upsert=True
            )
        else:
            try:
                self.coll.insert_one({"_id": identifier, **doc, "created_at": utcnow()})
            except DuplicateKeyError:
                raise IdentityExists(identifier) from None
        return Identity(identifier, tuple(checked), kind)

    def get(self, identifier: str) -> Identity | None:
        doc = self.coll.find_one({"_id": identifier}, {"secret_hash": 0})
        return _identity(doc) if doc else None

    def authenticate(self, identifier: str, secret: str) -> Identity | None:
        """The identity when the secret matches and it is enabled; None otherwise."""
        doc = self.coll.find_one({"_id": identifier})
        if doc is None:
            verify_secret(_DUMMY_HASH, secret)
            return None
        if not verify_secret(doc["secret_hash"], secret) or doc.get("disabled"):
            return None
        if needs_rehash(doc["secret_hash"]):
            self.coll.update_one({"_id": identifier}, {"$set": {"secret_hash": hash_secret(secret)}})
        return _identity(doc)

    def set_scopes(self, identifier: str, scopes: list[str]) -> None:
        checked = [str(Scope.parse(s)) for s in scopes]
        self.coll.update_one({"_id": identifier}, {"$set": {"scopes": checked, "updated_at": utcnow()}})

    def disable(self, identifier: str) -> None:
        self.coll.update_one({"_id": identifier}, {"$set": {"disabled": True, "updated_at": utcnow()}})


def _identity(doc: dict[str, Any]) -> Identity:
    return Identity(
        identifier=str(doc["_id"]),
        scopes=tuple(doc.get("scopes", [])),
        kind=str(doc.get("kind", "user")),
        disabled=bool(doc.get("disabled", False)),
    )

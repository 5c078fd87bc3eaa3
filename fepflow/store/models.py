"""Keyed models (components, chemical systems, transformations, networks): each stored once under its
content key, children as references, and rebuilt from a key with everything it refers to.

Writes insert only what is new: storing the same model twice creates nothing (documents that exist
only receive the ``$addToSet``/``$set`` updates the caller asks for).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from fepflow.models.base import KeyedModel
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.serialization import FORMAT, from_dict
from fepflow.models.systems import ChemicalSystem
from fepflow.models.tasks import utcnow
from fepflow.models.transformations import Transformation
from fepflow.store.bulk import insert_new

COLLECTION_OF: dict[type[KeyedModel], str] = {
    SmallMoleculeComponent: "components",
    ProteinComponent: "components",
    SolventComponent: "components",
    ChemicalSystem: "systems",
    Transformation: "transformations",
    AlchemicalNetwork: "networks",
}


class NotFound(KeyError):
    """No document with this key (or not visible in the caller's scope)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class ModelStore:
    """The keyed-model documents of one database (``components``, ``systems``, ``transformations``,
    ``networks``), written and read as whole models."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.db = db

    def index_specs(self) -> dict[str, list[IndexModel]]:
        return {
            "components": [IndexModel([("type", ASCENDING)], name="type")],
            "systems": [IndexModel([("name", ASCENDING)], name="name")],
        }

    def upsert(self, models: Sequence[KeyedModel], extra: dict[str, Any] | None = None) -> dict[str, int]:
        """Insert the models not stored yet; return how many were new, per collection.

        ``extra`` maps a collection name to the ``$addToSet``/``$set`` every model of it receives.
        """
        by_collection: dict[str, dict[str, KeyedModel]] = {}
        for model in models:
            by_collection.setdefault(COLLECTION_OF[type(model)], {})[model.key] = model
        created: dict[str, int] = {}
        now = utcnow()
        for name, items in by_collection.items():
            docs = []
            for key, model in items.items():
                doc = {"_id": key, "type": model.type_name, "data": model.keyed_dict(), "created_at": now}
                if hasattr(model, "name"):
                    doc["name"] = model.name
                docs.append(doc)
            update = (extra or {}).get(name, {})
            created[name] = insert_new(
                self.db[name], docs, add_to_set=update.get("$addToSet"), set_fields=update.get("$set")
            )
        return created

    def get(self, key: str) -> KeyedModel:
        """Rebuild any stored model (and its children) from its key."""
        objects: dict[str, dict[str, Any]] = {}
        pending = {key}
        while pending:
            by_coll: dict[str, list[str]] = {}
            for k in pending:
                by_coll.setdefault(_collection_for(k), []).append(k)
            found: list[dict[str, Any]] = []
            for name, keys in by_coll.items():
                found.extend(self.db[name].find({"_id": {"$in": keys}}, {"type": 1, "data": 1}))
            missing = pending - {d["_id"] for d in found}
            if missing:
                raise NotFound(f"{sorted(missing)[0]} is not in the index")
            pending = set()
            for doc in found:
                objects[doc["_id"]] = {"type": doc["type"], "data": doc["data"]}
                pending |= {k for k in _refs(doc["data"]) if k not in objects}
        return from_dict({"format": FORMAT, "root": key, "objects": objects})

    def network(self, key: str) -> AlchemicalNetwork:
        """The stored network ``key``, rebuilt whole."""
        model = self.get(key)
        if not isinstance(model, AlchemicalNetwork):
            raise NotFound(f"{key} is not a network")
        return model


def _collection_for(key: str) -> str:
    type_name = key.split("-", 1)[0]
    for model_type, name in COLLECTION_OF.items():
        if model_type.__name__ == type_name:
            return name
    raise NotFound(f"{key!r} is not the key of a stored object type")


def _refs(data: Any) -> set[str]:
    if isinstance(data, dict):
        if set(data) == {"@key"}:
            return {data["@key"]}
        return set().union(*(_refs(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(_refs(v) for v in data)) if data else set()
    return set()

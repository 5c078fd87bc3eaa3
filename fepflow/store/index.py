"""The MongoDB index: networks and everything they are made of, tasks, results and DRS objects.

Every model is stored once under its content key (``_id``), with children as references, so a
protein shared by 50 systems is one document. Writes are upserts by key: submitting the same
network twice creates nothing. A network's own document is written last, after its children and
tasks, so an interrupted submission leaves no network that points at missing documents (and the
next submission of it completes the rest). Only standard MongoDB operations are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, IndexModel, MongoClient
from pymongo.collection import Collection
from pymongo.database import Database

from fepflow.models.base import KeyedModel, ModelError
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.serialization import FORMAT, from_dict
from fepflow.models.systems import ChemicalSystem
from fepflow.models.tasks import Task, utcnow
from fepflow.models.transformations import Transformation
from fepflow.settings import MongoSettings
from fepflow.store.bulk import insert_new
from fepflow.store.pages import Page, page_query
from fepflow.store.results import ResultIndex
from fepflow.store.tasks import TaskQueue

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


@dataclass
class SubmitReport:
    """What a submission wrote: new documents per collection (all zero for a resubmission)."""

    network_key: str
    created: dict[str, int] = field(default_factory=dict)
    task_keys: list[str] = field(default_factory=list)

    @property
    def network_created(self) -> bool:
        return self.created.get("networks", 0) > 0


class Index:
    """fepflow's collections in one MongoDB database."""

    def __init__(self, client: MongoClient[dict[str, Any]], database: str) -> None:
        self.client = client
        self.db: Database[dict[str, Any]] = client[database]
        self.tasks = TaskQueue(self.db["tasks"])
        self.results = ResultIndex(self.db["results"], self.db["drs_objects"], self.tasks)

    @classmethod
    def from_settings(cls, settings: MongoSettings) -> Index:
        client: MongoClient[dict[str, Any]] = MongoClient(
            settings.url,
            serverSelectionTimeoutMS=settings.timeout_ms,
            connectTimeoutMS=settings.timeout_ms,
            tz_aware=True,
        )
        return cls(client, settings.database)

    @classmethod
    def connect(cls, url: str, database: str = "fepflow", timeout_ms: int = 5000) -> Index:
        return cls.from_settings(MongoSettings(url=url, database=database, timeout_ms=timeout_ms))

    def close(self) -> None:
        self.client.close()

    def ping(self) -> None:
        """Raise if the server cannot be reached."""
        self.client.admin.command("ping")

    def coll(self, name: str) -> Collection[dict[str, Any]]:
        return self.db[name]

    def ensure_indexes(self) -> None:
        """Create every index fepflow queries by; safe to call on every start."""
        specs: dict[str, list[IndexModel]] = {
            "components": [IndexModel([("type", ASCENDING)], name="type")],
            "systems": [IndexModel([("name", ASCENDING)], name="name")],
            "transformations": [IndexModel([("networks", ASCENDING)], name="networks")],
            "networks": [
                IndexModel([("scopes", ASCENDING), ("_id", ASCENDING)], name="scopes_id"),
                IndexModel([("name", ASCENDING)], name="name"),
            ],
            **self.tasks.index_specs(),
            **self.results.index_specs(),
        }
        for name, models in specs.items():
            self.db[name].create_indexes(models)

    # -- models ---------------------------------------------------------------------------------

    def _upsert_models(
        self, models: Sequence[KeyedModel], extra: dict[str, Any] | None = None
    ) -> dict[str, int]:
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

    def submit_network(
        self,
        network: AlchemicalNetwork,
        *,
        scope: str = "default",
        priority: int = 0,
        repeats: int | None = None,
    ) -> SubmitReport:
        """Store ``network`` and create its tasks; a second submission of it creates nothing."""
        if repeats is not None and repeats < 1:
            raise ModelError(f"repeats must be at least 1, got {repeats}")
        systems = list(network.nodes)
        components = {c.key: c for s in systems for c in s.children()}
        created = self._upsert_models(list(components.values()))
        created.update(self._upsert_models(systems))
        created.update(
            self._upsert_models(
                list(network.edges),
                extra={"transformations": {"$addToSet": {"networks": network.key}}},
            )
        )
        tasks = [
            Task.new(edge.key, r, priority=priority, network=network.key)
            for edge in network.edges
            for r in range(repeats or int(edge.settings.get("repeats", 1)))
        ]
        created["tasks"] = self.tasks.add(tasks, network_key=network.key)
        created.update(
            self._upsert_models(
                [network],
                extra={"networks": {"$addToSet": {"scopes": scope}, "$set": {"n_edges": len(network.edges)}}},
            )
        )
        return SubmitReport(network.key, created, [t.key for t in tasks])

    def get_model(self, key: str) -> KeyedModel:
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

    def get_network(self, key: str) -> AlchemicalNetwork:
        model = self.get_model(key)
        if not isinstance(model, AlchemicalNetwork):
            raise NotFound(f"{key} is not a network")
        return model

    def network_doc(self, key: str) -> dict[str, Any]:
        doc = self.db["networks"].find_one({"_id": key}, {"data": 0})
        if doc is None:
            raise NotFound(f"network {key} is not in the index")
        return doc

    def list_networks(
        self, *, scopes: list[str] | None = None, limit: int = 100, after: str | None = None
    ) -> Page:
        """Networks (summary fields only), oldest key first, ``limit`` per page."""
        query: dict[str, Any] = {} if scopes is None else {"scopes": {"$in": scopes}}
        return page_query(self.db["networks"], query, limit=limit, after=after, projection={"data": 0})

    def network_transformations(self, key: str) -> list[str]:
        return [d["_id"] for d in self.db["transformations"].find({"networks": key}, {"_id": 1})]

    def count_documents(self) -> dict[str, int]:
        """Documents per fepflow collection (for checks and the status page)."""
        names = ["components", "systems", "transformations", "networks", "tasks", "results", "drs_objects"]
        return {name: self.db[name].count_documents({}) for name in names}


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

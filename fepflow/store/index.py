"""The MongoDB index: one store per kind of record in one database (keyed models, networks,
transformations, tasks, results with their DRS objects, identities), and the submission of a network.

Every model is stored once under its content key (``_id``), with children as references, so a
protein shared by 50 systems is one document. Writes are upserts by key: submitting the same
network twice creates nothing. A network's own document is written last, after its children and
tasks, so an interrupted submission leaves no network that points at missing documents (and the
next submission of it completes the rest). Only standard MongoDB operations are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database

from fepflow.models.base import ModelError
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.tasks import Task
from fepflow.settings import MongoSettings
from fepflow.store.idempotency import IdempotencyStore
from fepflow.store.identities import IdentityStore
from fepflow.store.models import ModelStore
from fepflow.store.networks import NetworkIndex
from fepflow.store.results import ResultIndex
from fepflow.store.tasks import TaskQueue
from fepflow.store.transformations import TransformationIndex

COLLECTIONS = ["components", "systems", "transformations", "networks", "tasks", "results", "drs_objects"]
"""fepflow's collections, as counted by :meth:`Index.count_documents`."""


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
    """fepflow's collections in one MongoDB database, one store per kind of record."""

    def __init__(self, client: MongoClient[dict[str, Any]], database: str) -> None:
        self.client = client
        self.db: Database[dict[str, Any]] = client[database]
        self.models = ModelStore(self.db)
        self.networks = NetworkIndex(self.db["networks"])
        self.transformations = TransformationIndex(self.db["transformations"])
        self.tasks = TaskQueue(self.db["tasks"])
        self.results = ResultIndex(self.db["results"], self.db["drs_objects"], self.tasks)
        self.identities = IdentityStore(self.db["identities"])
        self.idempotency = IdempotencyStore(self.db["idempotency"])

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
        """A collection of this database, for the stores in this package."""
        return self.db[name]

    def ensure_indexes(self) -> None:
        """Create every index fepflow queries by; safe to call on every start."""
        stores = (
            self.models,
            self.networks,
            self.transformations,
            self.tasks,
            self.results,
            self.idempotency,
        )
        for store in stores:
            for name, models in store.index_specs().items():
                self.db[name].create_indexes(models)

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
        created = self.models.upsert(list(components.values()))
        created.update(self.models.upsert(systems))
        created.update(
            self.models.upsert(
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
            self.models.upsert(
                [network],
                extra={"networks": {"$addToSet": {"scopes": scope}, "$set": {"n_edges": len(network.edges)}}},
            )
        )
        return SubmitReport(network.key, created, [t.key for t in tasks])

    def count_documents(self) -> dict[str, int]:
        """Documents per fepflow collection (for checks and the status page)."""
        return {name: self.db[name].count_documents({}) for name in COLLECTIONS}

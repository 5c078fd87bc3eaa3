"""Transformation documents: which networks each belongs to, and a transformation's summary fields.

The documents are written by :class:`fepflow.store.models.ModelStore`; a submission adds the
network's key to ``networks`` of every one of its transformations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection

from fepflow.store.batched import find_in


class TransformationIndex:
    """The ``transformations`` collection."""

    def __init__(self, coll: Collection[dict[str, Any]]) -> None:
        self.coll = coll

    def index_specs(self) -> dict[str, list[IndexModel]]:
        return {self.coll.name: [IndexModel([("networks", ASCENDING)], name="networks")]}

    def summary(self, key: str) -> dict[str, Any] | None:
        """The transformation's networks, name and protocol (``data.protocol``), or None."""
        return self.coll.find_one({"_id": key}, {"networks": 1, "name": 1, "data.protocol": 1})

    def networks_by_key(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """The networks of each of ``keys`` that is a stored transformation (others are left out)."""
        return {
            str(d["_id"]): list(d.get("networks", []))
            for d in find_in(self.coll, "_id", keys, {"networks": 1})
        }

    def protocols(self, network_key: str) -> set[str]:
        """The protocols of network ``network_key``'s transformations (empty for no such network)."""
        return {
            str((d.get("data") or {}).get("protocol", ""))
            for d in self.coll.find({"networks": network_key}, {"data.protocol": 1})
        }

    def of_network(self, network_key: str) -> list[str]:
        """The keys of the transformations of network ``network_key``."""
        return [str(d["_id"]) for d in self.coll.find({"networks": network_key}, {"_id": 1})]

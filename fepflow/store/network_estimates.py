"""What a relative network's estimates are computed from, and where Dagster keeps them.

:func:`estimate_inputs` reads, for one network, everything
:func:`fepflow.analysis.network_estimates.relative_network_estimates` needs: the network rebuilt
from the index, its transformations' estimates gathered from their completed repeats
(:func:`fepflow.store.estimates.network_estimates`, the one way repeats are gathered) and the
experimental values stored on the network. The hub and Dagster each join the two:
``relative_network_estimates(*estimate_inputs(index, key))``.

:class:`NetworkEstimateStore` keeps the answers Dagster's ``network_estimates`` asset computed in
the ``network_estimates`` collection, one document per network (derived data: the hub computes its
own answer from the results, so these are never the only copy of anything).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue, NetworkEstimates
from fepflow.models.results import EstimateRow
from fepflow.models.tasks import utcnow
from fepflow.store.estimates import network_estimates as transformation_rows
from fepflow.store.index import Index

RELATIVE_PROTOCOLS = ("relative-binding", "relative-hydration")
"""Protocols whose networks have edges between ligands (and so network estimates)."""


class EstimateInputs(NamedTuple):
    """A relative network, its transformations' gathered estimates and its experimental values."""

    network: AlchemicalNetwork
    rows: list[EstimateRow]
    experimental: list[ExperimentalValue]


def estimate_inputs(index: Index, network_key: str, scopes: Sequence[str] | None = None) -> EstimateInputs:
    """The inputs of network ``network_key``'s estimates (NotFound when it is not stored), with the
    experimental values ``scopes`` gave (every scope's when None)."""
    return EstimateInputs(
        network=index.models.network(network_key),
        rows=transformation_rows(index, network_key),
        experimental=index.networks.experimental(network_key, scopes),
    )


def relative_network_keys(index: Index) -> list[str]:
    """Every network with a relative transformation, by key."""
    query = {"data.protocol": {"$in": list(RELATIVE_PROTOCOLS)}}
    return sorted(str(k) for k in index.coll("transformations").distinct("networks", query))


class NetworkEstimateStore:
    """The ``network_estimates`` collection: the last NetworkEstimates computed per network."""

    def __init__(self, index: Index) -> None:
        self.coll = index.coll("network_estimates")

    def put(self, estimates: NetworkEstimates) -> None:
        """Store ``estimates`` as network ``estimates.network``'s, replacing any before."""
        doc: dict[str, Any] = {
            "_id": estimates.network,
            **estimates.model_dump(mode="json"),
            "updated_at": utcnow(),
        }
        self.coll.replace_one({"_id": estimates.network}, doc, upsert=True)

    def get(self, network_key: str) -> NetworkEstimates | None:
        """The last stored estimates of the network, or None."""
        doc = self.coll.find_one({"_id": network_key}, {"_id": 0, "updated_at": 0})
        return None if doc is None else NetworkEstimates.model_validate(doc)

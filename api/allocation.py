"""A submission's allocation strategy: checked before the network is stored, enabled after.

The strategy (:mod:`fepflow.analysis.allocation`) works on a relative network's edges, so a network
without relative transformations cannot opt in: the submission is refused before anything is stored.
Dagster's ``allocation_sensor`` then evaluates the network's strategy (``fepflow.store.allocation``).
"""

from __future__ import annotations

from api.submission import FieldError
from fepflow.analysis.allocation import Strategy
from fepflow.analysis.network import network_edges
from fepflow.hub.schemas import AllocationRequest
from fepflow.models.network import AlchemicalNetwork
from fepflow.store.allocation import AllocationStore
from fepflow.store.index import Index


def check_allocation(network: AlchemicalNetwork, request: AllocationRequest | None) -> None:
    """FieldError (422) when ``request`` cannot apply to ``network``: no edge with all its legs."""
    if request is None:
        return
    try:
        Strategy(**request.strategy())
    except ValueError as exc:
        raise FieldError("allocation", str(exc)) from None
    edges = [e for e in network_edges(network)[0] if not e.missing]
    if not edges:
        raise FieldError(
            "allocation",
            "an allocation strategy needs a relative network (relative-hydration or relative-binding "
            "edges with all their legs); this network has none",
        )


def opt_in_allocation(index: Index, network_key: str, request: AllocationRequest | None) -> None:
    """Enable (or change) the stored network's allocation strategy, when one was asked for."""
    if request is not None:
        AllocationStore(index).enable(network_key, request.strategy())

"""An alchemical network: chemical systems as nodes, transformations as edges."""

from __future__ import annotations

from collections import Counter

from pydantic import Field, model_validator

from fepflow.models.base import KeyedModel, ModelError
from fepflow.models.systems import ChemicalSystem
from fepflow.models.transformations import Transformation


class AlchemicalNetwork(KeyedModel):
    """Nodes and edges, each kept sorted by key so that order of entry never changes the key."""

    name: str = Field(..., min_length=1, description="the campaign's name for this network")
    nodes: tuple[ChemicalSystem, ...] = Field(..., description="chemical systems")
    edges: tuple[Transformation, ...] = Field(..., description="transformations between nodes")

    @model_validator(mode="after")
    def _consistent(self) -> AlchemicalNetwork:
        if not self.nodes:
            raise ModelError(f"network {self.name!r} is empty: it needs at least one node")
        if not self.edges:
            raise ModelError(f"network {self.name!r} has no transformations, so there is nothing to run")
        names = Counter(node.name for node in self.nodes)
        dupes = sorted(name for name, n in names.items() if n > 1)
        if dupes:
            raise ModelError(
                f"network {self.name!r}: node names must be unique; repeated: {', '.join(dupes)}"
            )
        node_keys = {node.key for node in self.nodes}
        if len(node_keys) != len(self.nodes):
            raise ModelError(f"network {self.name!r}: the same chemical system is listed twice as a node")
        edge_keys = Counter(edge.key for edge in self.edges)
        repeated = [e.label for e in self.edges if edge_keys[e.key] > 1]
        if repeated:
            raise ModelError(f"network {self.name!r}: transformation {repeated[0]!r} is listed twice")
        for edge in self.edges:
            for side, state in (("A", edge.state_a), ("B", edge.state_b)):
                if state.key not in node_keys:
                    raise ModelError(
                        f"network {self.name!r}: transformation {edge.label!r} has state {side} "
                        f"{state.name!r}, which is not a node of the network"
                    )
        object.__setattr__(self, "nodes", tuple(sorted(self.nodes, key=lambda n: n.key)))
        object.__setattr__(self, "edges", tuple(sorted(self.edges, key=lambda e: e.key)))
        return self

    def node(self, name: str) -> ChemicalSystem:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"network {self.name!r} has no node named {name!r}")

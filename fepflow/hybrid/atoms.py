"""The atoms of a hybrid topology: core (mapped), unique to A, unique to B, and the environment.

Hybrid particle order: every particle of system A in its own order (ligand A, then solvent, ions,
protein), then ligand B's unique atoms in B's order. A core atom keeps A's index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from fepflow.models.base import ModelError


class HybridError(ModelError):
    """Two systems and a mapping that cannot form a hybrid topology."""


@dataclass(frozen=True)
class HybridAtoms:
    """Index bookkeeping of a hybrid.

    Attributes
    ----------
    n_a : int
        Particles of system A (ligand A and its environment).
    ligand_a : tuple of int
        Ligand A's indices in system A (= in the hybrid).
    n_ligand_b : int
        Atoms of ligand B (indices 0..n-1 in B's own system).
    a_of_b : dict
        Core: index in B -> index in A (= hybrid index).
    """

    n_a: int
    ligand_a: tuple[int, ...]
    n_ligand_b: int
    a_of_b: dict[int, int]
    hybrid_of_b: dict[int, int] = field(init=False)
    core: frozenset[int] = field(init=False)
    unique_a: frozenset[int] = field(init=False)
    unique_b: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        hybrid = dict(self.a_of_b)
        next_index = self.n_a
        for j in range(self.n_ligand_b):
            if j not in hybrid:
                hybrid[j] = next_index
                next_index += 1
        object.__setattr__(self, "hybrid_of_b", hybrid)
        core = frozenset(self.a_of_b.values())
        object.__setattr__(self, "core", core)
        object.__setattr__(self, "unique_a", frozenset(self.ligand_a) - core)
        object.__setattr__(self, "unique_b", frozenset(range(self.n_a, next_index)))

    @classmethod
    def from_mapping(
        cls, n_a: int, ligand_a: Sequence[int], n_ligand_b: int, pairs: Iterable[tuple[int, int]]
    ) -> HybridAtoms:
        """From mapping pairs ``(ligand-A atom number, ligand-B atom number)``, both 0-based in the ligand.

        Ligand-A atom number ``k`` is system-A particle ``ligand_a[k]``.
        """
        ligand_a = tuple(int(i) for i in ligand_a)
        a_of_b: dict[int, int] = {}
        for ka, kb in pairs:
            if not (0 <= ka < len(ligand_a) and 0 <= kb < n_ligand_b):
                raise HybridError(
                    f"mapping pair ({ka}, {kb}) is outside the ligands ({len(ligand_a)} and {n_ligand_b} atoms)"
                )
            a_of_b[int(kb)] = ligand_a[int(ka)]
        if not a_of_b:
            raise HybridError("the mapping is empty: a hybrid topology needs at least one core atom")
        return cls(n_a=n_a, ligand_a=ligand_a, n_ligand_b=n_ligand_b, a_of_b=a_of_b)

    @property
    def n_hybrid(self) -> int:
        return self.n_a + len(self.unique_b)

    @property
    def ligand(self) -> frozenset[int]:
        """Every hybrid index of either ligand."""
        return frozenset(self.ligand_a) | self.unique_b

    def kind(self, h: int) -> str:
        """``"core"``, ``"a"`` (unique to A), ``"b"`` (unique to B) or ``"env"``."""
        if h in self.core:
            return "core"
        if h in self.unique_a:
            return "a"
        if h in self.unique_b:
            return "b"
        return "env"

    def state_a_order(self) -> list[int]:
        """Hybrid indices of the real state A's particles, in system A's order."""
        return list(range(self.n_a))

    def state_b_ligand(self) -> list[int]:
        """Hybrid indices of ligand B's atoms, in B's order."""
        return [self.hybrid_of_b[j] for j in range(self.n_ligand_b)]

"""Network-wide estimates: maximum-likelihood ligand values from every edge, cycle closures, absolutes.

Each edge ``a -> b`` measures ``ΔG_ab = G_b - G_a`` with standard error ``σ_ab``. With Gaussian
errors the maximum-likelihood values minimise the weighted squared residuals (Xu, JCTC 2019; the
estimator of cinnabar/arsenic):

    F = Σ_edges w_ab (e_a - e_b)(e_a - e_b)^T,      z = Σ_edges w_ab ΔG_ab (e_b - e_a),   w = 1/σ²
    G = F⁺ z,                                        Cov(G) = F⁺

F is singular (only differences are measured); its pseudo-inverse picks the gauge Σ G = 0, in which
``Cov`` is the covariance of the centred values. The uncertainty of any difference ``G_j - G_i`` is
``sqrt(C_ii + C_jj - 2 C_ij)``, independent of the gauge.

**Absolute values** from experimental references ``{ligand: (value, σ)}``: the relative values are
shifted so that their mean over the reference ligands equals the mean of the references (the
predictions are not fitted to experiment, only placed on its scale). Uncertainty of ligand i:
``Var(G_i - mean_r G_r) + Σ σ_r² / n_r²``.

**Cycle closure**: for every independent cycle (the fundamental cycles of a spanning tree: one per
edge beyond the tree, ``n_edges - n_ligands + 1`` of them) the signed sum of ΔG around it, with
``sqrt(Σ σ²)``; a closure beyond 2σ flags a problem on one of its edges.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fepflow.models.network import AlchemicalNetwork
    from fepflow.models.transformations import Transformation

SIGMA_FLOOR = 1e-3
"""kcal/mol: edge and reference uncertainties below this are raised to it (a zero would be an infinite weight)."""


@dataclass(frozen=True)
class EdgeResult:
    """One measured edge ``a -> b``."""

    a: str
    b: str
    dg: float
    sigma: float


@dataclass(frozen=True)
class CycleClosure:
    """One independent cycle: ``nodes[0] -> nodes[1] -> ... -> nodes[0]``."""

    nodes: tuple[str, ...]
    closure: float
    """Signed sum of the measured ΔG around the cycle (0 for perfectly consistent data)."""
    sigma: float
    """sqrt of the sum of the edges' variances."""

    @property
    def within_2_sigma(self) -> bool:
        return abs(self.closure) <= 2.0 * self.sigma


@dataclass(frozen=True)
class NetworkEstimate:
    """Maximum-likelihood values per ligand, with their covariance, cycles, and absolutes if referenced."""

    names: tuple[str, ...]
    values: np.ndarray
    """Relative values, centred (mean 0), same units as the input (kcal/mol)."""
    covariance: np.ndarray
    cycles: tuple[CycleClosure, ...]
    absolute: dict[str, tuple[float, float]] | None = None
    """``{ligand: (value, uncertainty)}`` when references were given."""

    def value(self, name: str) -> float:
        return float(self.values[self.names.index(name)])

    def uncertainty(self, name: str) -> float:
        """Uncertainty of the centred value (use :meth:`difference` for a pair)."""
        i = self.names.index(name)
        return float(math.sqrt(max(self.covariance[i, i], 0.0)))

    def difference(self, a: str, b: str) -> tuple[float, float]:
        """Maximum-likelihood ``G_b - G_a`` and its uncertainty."""
        i, j = self.names.index(a), self.names.index(b)
        var = self.covariance[i, i] + self.covariance[j, j] - 2.0 * self.covariance[i, j]
        return float(self.values[j] - self.values[i]), float(math.sqrt(max(var, 0.0)))


def components(n: int, edges: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Connected groups of the nodes ``0 .. n-1`` joined by ``edges``, each sorted, by first node."""
    adjacency: dict[int, set[int]] = {i: set() for i in range(n)}
    for i, j in edges:
        adjacency[i].add(j)
        adjacency[j].add(i)
    seen: set[int] = set()
    groups = []
    for start in range(n):
        if start in seen:
            continue
        group, queue = [], deque([start])
        seen.add(start)
        while queue:
            node = queue.popleft()
            group.append(node)
            for other in sorted(adjacency[node] - seen):
                seen.add(other)
                queue.append(other)
        groups.append(sorted(group))
    return groups


def fundamental_cycles(n: int, edges: Sequence[tuple[int, int]]) -> list[list[tuple[int, bool]]]:
    """Independent cycles as lists of ``(edge index, forward)``: a BFS tree and one cycle per extra edge."""
    adjacency: dict[int, list[tuple[int, int]]] = {i: [] for i in range(n)}
    for k, (i, j) in enumerate(edges):
        adjacency[i].append((j, k))
        adjacency[j].append((i, k))
    parent: dict[int, tuple[int, int] | None] = {}
    depth: dict[int, int] = {}
    tree_edges: set[int] = set()
    for root in range(n):
        if root in parent:
            continue
        parent[root], depth[root] = None, 0
        queue = deque([root])
        while queue:
            node = queue.popleft()
            for other, k in adjacency[node]:
                if other not in parent:
                    parent[other], depth[other] = (node, k), depth[node] + 1
                    tree_edges.add(k)
                    queue.append(other)

    def step(frm: int, to: int, k: int) -> tuple[int, bool]:
        return (k, edges[k] == (frm, to))

    cycles = []
    for k, (u, v) in enumerate(edges):
        if k in tree_edges:
            continue
        # path v -> ... -> lca <- ... <- u, closed by the extra edge u -> v
        up_u, up_v = [], []
        x, y = u, v
        while depth[x] > depth[y]:
            px, kx = parent[x]  # type: ignore[misc]
            up_u.append((x, px, kx))
            x = px
        while depth[y] > depth[x]:
            py, ky = parent[y]  # type: ignore[misc]
            up_v.append((y, py, ky))
            y = py
        while x != y:
            px, kx = parent[x]  # type: ignore[misc]
            py, ky = parent[y]  # type: ignore[misc]
            up_u.append((x, px, kx))
            up_v.append((y, py, ky))
            x, y = px, py
        cycle = [step(u, v, k)]  # u -> v
        cycle += [step(a, b, kk) for a, b, kk in up_v]  # v up to the lca
        cycle += [step(b, a, kk) for a, b, kk in reversed(up_u)]  # lca down to u
        cycles.append(cycle)
    return cycles


def estimate_network(
    edges: Sequence[EdgeResult | tuple[str, str, float, float]],
    references: Mapping[str, tuple[float, float]] | None = None,
    names: Sequence[str] | None = None,
) -> NetworkEstimate:
    """Maximum-likelihood ligand values from relative results (see the module).

    Parameters
    ----------
    edges : sequence of EdgeResult or (a, b, ΔG_ab, σ_ab)
        Measured ``G_b - G_a`` with its standard error; repeated pairs are allowed (they combine).
    references : mapping, optional
        Experimental (or otherwise known) absolute values ``{ligand: (value, σ)}``.
    names : sequence of str, optional
        The ligands, in the order wanted (default: order of first appearance in ``edges``).

    Raises
    ------
    ValueError
        No edges, an edge from a ligand to itself, a non-finite value or negative σ, ligands in
        several disconnected groups, or a reference to a ligand not in the network.
    """
    parsed = [e if isinstance(e, EdgeResult) else EdgeResult(*e) for e in edges]
    if not parsed:
        raise ValueError("no edges to estimate from")
    order = _ligand_order(parsed, names)
    index = {x: i for i, x in enumerate(order)}
    n = len(order)
    pairs = [(index[e.a], index[e.b]) for e in parsed]
    groups = components(n, pairs)
    if len(groups) > 1:
        listed = "; ".join(", ".join(order[i] for i in g) for g in groups)
        raise ValueError(f"the edges leave {len(groups)} disconnected groups of ligands: {listed}")

    fisher = np.zeros((n, n))
    z = np.zeros(n)
    for e, (i, j) in zip(parsed, pairs, strict=True):
        w = 1.0 / max(e.sigma, SIGMA_FLOOR) ** 2
        fisher[i, i] += w
        fisher[j, j] += w
        fisher[i, j] -= w
        fisher[j, i] -= w
        z[j] += w * e.dg
        z[i] -= w * e.dg
    covariance = np.linalg.pinv(fisher, hermitian=True)
    values = covariance @ z
    values -= values.mean()

    cycles = []
    for cycle in fundamental_cycles(n, pairs):
        closure = sum(parsed[k].dg if forward else -parsed[k].dg for k, forward in cycle)
        sigma = math.sqrt(sum(parsed[k].sigma ** 2 for k, _ in cycle))
        nodes = tuple(order[pairs[k][0] if forward else pairs[k][1]] for k, forward in cycle)
        cycles.append(CycleClosure(nodes=nodes, closure=float(closure), sigma=sigma))

    absolute = _absolute(references, index, values, covariance) if references else None
    return NetworkEstimate(
        names=tuple(order), values=values, covariance=covariance, cycles=tuple(cycles), absolute=absolute
    )


def _ligand_order(parsed: Sequence[EdgeResult], names: Sequence[str] | None) -> list[str]:
    """``names``, or the ligands in order of first appearance; every edge checked on the way."""
    order: list[str] = list(names) if names is not None else []
    for e in parsed:
        for x in (e.a, e.b):
            if x not in order:
                if names is not None:
                    raise ValueError(f"edge {e.a} -> {e.b} names {x!r}, which is not among the ligands")
                order.append(x)
        if e.a == e.b:
            raise ValueError(f"edge {e.a} -> {e.b} joins a ligand to itself")
        if not (math.isfinite(e.dg) and math.isfinite(e.sigma)) or e.sigma < 0:
            raise ValueError(f"edge {e.a} -> {e.b}: ΔG {e.dg} ± {e.sigma} is not a finite value with σ >= 0")
    return order


def _absolute(
    references: Mapping[str, tuple[float, float]],
    index: dict[str, int],
    values: np.ndarray,
    covariance: np.ndarray,
) -> dict[str, tuple[float, float]]:
    """Absolute values and their σ: the relative values shifted so that the references' mean agrees."""
    unknown = [r for r in references if r not in index]
    if unknown:
        raise ValueError(f"references for ligands not in the network: {', '.join(unknown)}")
    n = len(index)
    ref_idx = [index[r] for r in references]
    m = len(ref_idx)
    offset = float(np.mean([references[r][0] for r in references]) - values[ref_idx].mean())
    ref_var = sum(max(s, 0.0) ** 2 for _, s in references.values()) / m**2
    absolute = {}
    for name, i in index.items():
        c = np.zeros(n)
        c[ref_idx] -= 1.0 / m
        c[i] += 1.0
        var = float(c @ covariance @ c) + ref_var
        absolute[name] = (float(values[i] + offset), math.sqrt(max(var, 0.0)))
    return absolute


def ligand_names(transformation: Transformation) -> tuple[str, str]:
    """The names of the ligands a relative transformation turns into each other (A, B)."""
    mapping = transformation.mapping
    if mapping is not None:
        a = transformation.state_a.components.get(mapping.component_a)
        b = transformation.state_b.components.get(mapping.component_b)
        if a is not None and b is not None:
            return a.name, b.name
    return transformation.state_a.name, transformation.state_b.name


LEGS = {"relative-binding": ("complex", "solvent"), "relative-hydration": ("hydration",)}
"""The legs whose results make one edge's ΔΔG, per relative protocol."""
LEG_SIGN = {"complex": 1.0, "solvent": -1.0, "hydration": 1.0}
"""How each leg enters the edge's ΔΔG: ΔΔG_bind = complex - solvent; ΔΔG_hyd is the transformation's."""


@dataclass(frozen=True)
class NetworkEdge:
    """One edge ``a -> b`` between ligands and the transformations (legs) that measure it."""

    a: str
    b: str
    protocol: str
    legs: dict[str, tuple[str, float]]
    """leg name -> (transformation key, sign of its value in ΔΔG(a -> b))"""

    @property
    def missing(self) -> tuple[str, ...]:
        """Legs the protocol needs that the network has no transformation for."""
        return tuple(leg for leg in LEGS[self.protocol] if leg not in self.legs)

    def combine(self, values: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
        """ΔΔG(a -> b) and its σ from ``{transformation key: (value, σ)}`` of its legs (legs are
        independent: σ² adds); None while a leg has no value."""
        if self.missing or any(key not in values for key, _ in self.legs.values()):
            return None
        value = sum(sign * values[key][0] for key, sign in self.legs.values())
        sigma = math.sqrt(sum(values[key][1] ** 2 for key, _ in self.legs.values()))
        return float(value), sigma


def network_edges(network: AlchemicalNetwork) -> tuple[list[NetworkEdge], list[str]]:
    """The network's relative transformations grouped into edges between ligands, in the order of
    their first transformation, with warnings about legs given twice.

    ``relative-hydration`` transformations are edges as they are (leg ``hydration``);
    ``relative-binding`` ones come in pairs per ligand pair, a complex leg (its states hold a
    protein) and a solvent leg. A leg that runs ``b -> a`` enters with its sign flipped. Other
    protocols' transformations are left out.
    """
    edges: dict[frozenset[str], NetworkEdge] = {}
    warnings = []
    for t in network.edges:
        if t.protocol not in LEGS:
            continue
        a, b = ligand_names(t)
        leg = LEGS[t.protocol][0] if t.protocol == "relative-hydration" else _binding_leg(t)
        edge = edges.setdefault(frozenset((a, b)), NetworkEdge(a, b, t.protocol, {}))
        if leg in edge.legs or edge.protocol != t.protocol:
            warnings.append(
                f"edge {edge.a} -> {edge.b}: transformation {t.key} repeats its {leg} leg; ignored"
            )
            continue
        edge.legs[leg] = (t.key, LEG_SIGN[leg] * (1.0 if (a, b) == (edge.a, edge.b) else -1.0))
    return list(edges.values()), warnings


def _binding_leg(transformation: Transformation) -> str:
    return "complex" if transformation.state_a.protein is not None else "solvent"


def edges_from_estimates(
    network: AlchemicalNetwork, estimates: Mapping[str, tuple[float, float]]
) -> list[EdgeResult]:
    """Edges between ligands from per-transformation estimates ``{transformation key: (ΔG, σ)}``
    (legs combined by :func:`network_edges`): ``relative-hydration`` transformations as they are,
    ``relative-binding`` ΔΔG_bind = complex - solvent with σ = sqrt(σ_c² + σ_s²). Edges without an
    estimate yet (or a binding pair with one leg missing) are left out. Nodes are ligand names.
    """
    out = []
    for edge in network_edges(network)[0]:
        combined = edge.combine(estimates)
        if combined is not None:
            out.append(EdgeResult(edge.a, edge.b, *combined))
    return out

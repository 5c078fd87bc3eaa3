"""Network-wide maximum-likelihood estimates on synthetic networks with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fepflow.analysis.network import EdgeResult, edges_from_estimates, estimate_network, fundamental_cycles
from fepflow.models import ProteinComponent, SmallMoleculeComponent
from fepflow.planning import plan_network


def test_consistent_tree_recovers_differences_exactly() -> None:
    true = {"a": 0.0, "b": 1.5, "c": -2.0, "d": 0.7}
    edges = [(x, y, true[y] - true[x], 0.2) for x, y in [("a", "b"), ("a", "c"), ("c", "d")]]
    est = estimate_network(edges)
    assert est.values.sum() == pytest.approx(0.0, abs=1e-12)
    for x in true:
        for y in true:
            assert est.difference(x, y)[0] == pytest.approx(true[y] - true[x], abs=1e-10)
    # a tree has no cycles, and each edge's difference keeps exactly its own σ
    assert est.cycles == ()
    assert est.difference("a", "b")[1] == pytest.approx(0.2, abs=1e-10)
    # a - d goes through two edges: σ = sqrt(2) 0.2
    assert est.difference("a", "d")[1] == pytest.approx(0.2 * math.sqrt(2), abs=1e-10)


def test_inconsistent_triangle_spreads_the_closure_error_evenly() -> None:
    # A->B 1.0, B->C 1.0, A->C 1.5: closure 1 + 1 - 1.5 = 0.5, each edge corrected by 0.5/3
    est = estimate_network([("A", "B", 1.0, 0.3), ("B", "C", 1.0, 0.3), ("A", "C", 1.5, 0.3)])
    assert est.difference("A", "B")[0] == pytest.approx(1.0 - 0.5 / 3)
    assert est.difference("B", "C")[0] == pytest.approx(1.0 - 0.5 / 3)
    assert est.difference("A", "C")[0] == pytest.approx(1.5 + 0.5 / 3)
    # each difference is one direct edge in parallel with a path of two: σ² = (σ² · 2σ²) / 3σ² = 2σ²/3
    assert est.difference("A", "B")[1] == pytest.approx(0.3 * math.sqrt(2 / 3))
    (cycle,) = est.cycles
    assert abs(cycle.closure) == pytest.approx(0.5)
    assert cycle.sigma == pytest.approx(0.3 * math.sqrt(3))
    assert cycle.within_2_sigma
    assert sorted(cycle.nodes) == ["A", "B", "C"]


def test_repeated_edge_is_an_inverse_variance_mean() -> None:
    est = estimate_network([("x", "y", 1.0, 0.1), ("x", "y", 2.0, 0.2)])
    w1, w2 = 1 / 0.1**2, 1 / 0.2**2
    assert est.difference("x", "y")[0] == pytest.approx((w1 * 1.0 + w2 * 2.0) / (w1 + w2))
    assert est.difference("x", "y")[1] == pytest.approx(1 / math.sqrt(w1 + w2))
    (cycle,) = est.cycles  # the two parallel edges form one cycle
    assert abs(cycle.closure) == pytest.approx(1.0)
    assert cycle.sigma == pytest.approx(math.sqrt(0.1**2 + 0.2**2))
    assert not cycle.within_2_sigma  # 1.0 > 2 x 0.224: the two repeats disagree


def test_weighted_least_squares_matches_a_direct_solve() -> None:
    rng = np.random.default_rng(7)
    names = [f"L{i}" for i in range(6)]
    true = rng.normal(size=6)
    pairs = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 2), (1, 4), (3, 5), (0, 5)]
    sigmas = rng.uniform(0.1, 0.5, size=len(pairs))
    dgs = [true[j] - true[i] + rng.normal(scale=s) for (i, j), s in zip(pairs, sigmas, strict=True)]
    est = estimate_network(
        [(names[i], names[j], d, s) for (i, j), d, s in zip(pairs, dgs, sigmas, strict=True)]
    )
    # reference: fix L0 = 0 and solve the weighted normal equations for the rest
    a = np.zeros((len(pairs), 5))
    for k, (i, j) in enumerate(pairs):
        if j:
            a[k, j - 1] += 1
        if i:
            a[k, i - 1] -= 1
    w = np.diag(1 / sigmas**2)
    cov = np.linalg.inv(a.T @ w @ a)
    sol = cov @ a.T @ w @ np.array(dgs)
    for k in range(1, 6):
        value, sigma = est.difference("L0", names[k])
        assert value == pytest.approx(sol[k - 1], abs=1e-9)
        assert sigma == pytest.approx(math.sqrt(cov[k - 1, k - 1]), abs=1e-9)
    assert len(est.cycles) == len(pairs) - 6 + 1
    for cycle in est.cycles:  # noise-free closures would be 0; here each is a sum of the noise
        assert abs(cycle.closure) < 5 * cycle.sigma


def test_cycle_closure_exact_for_consistent_data() -> None:
    true = {"a": 0.0, "b": 1.0, "c": 3.0, "d": -1.0}
    links = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "a"), ("b", "d")]
    est = estimate_network([(x, y, true[y] - true[x], 0.1) for x, y in links])
    assert len(est.cycles) == 3
    assert all(c.closure == pytest.approx(0.0, abs=1e-12) for c in est.cycles)


def test_fundamental_cycles_walk_real_edges() -> None:
    edges = [(0, 1), (1, 2), (2, 0), (2, 3)]
    (cycle,) = fundamental_cycles(4, edges)
    used = sorted(k for k, _ in cycle)
    assert used == [0, 1, 2]


def test_absolute_values_from_one_reference() -> None:
    true = {"a": -5.0, "b": -3.0, "c": -4.0}
    edges = [("a", "b", 2.0, 0.2), ("b", "c", -1.0, 0.2)]
    est = estimate_network(edges, references={"a": (-5.0, 0.0)})
    assert est.absolute is not None
    for name, value in true.items():
        assert est.absolute[name][0] == pytest.approx(value, abs=1e-10)
    assert est.absolute["a"][1] == pytest.approx(0.0, abs=1e-9)  # the reference itself, σ_ref = 0
    assert est.absolute["b"][1] == pytest.approx(0.2, abs=1e-9)
    assert est.absolute["c"][1] == pytest.approx(0.2 * math.sqrt(2), abs=1e-9)


def test_absolute_values_from_several_references_use_their_mean() -> None:
    edges = [("a", "b", 1.0, 0.1), ("b", "c", 1.0, 0.1)]
    # experiment says a = 0.2 and c = 1.8: the relative values (c - a = 2) are shifted, not bent
    est = estimate_network(edges, references={"a": (0.2, 0.3), "c": (1.8, 0.4)})
    assert est.absolute is not None
    assert est.absolute["a"][0] == pytest.approx(0.0)
    assert est.absolute["b"][0] == pytest.approx(1.0)
    assert est.absolute["c"][0] == pytest.approx(2.0)
    # b - (a + c)/2 has variance (σ_ab² + σ_bc²)/4; plus (0.3² + 0.4²)/4 from the references
    assert est.absolute["b"][1] == pytest.approx(math.sqrt(0.02 / 4 + 0.25 / 4))


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="no edges"):
        estimate_network([])
    with pytest.raises(ValueError, match="disconnected"):
        estimate_network([("a", "b", 1.0, 0.1), ("c", "d", 1.0, 0.1)])
    with pytest.raises(ValueError, match="itself"):
        estimate_network([("a", "a", 1.0, 0.1)])
    with pytest.raises(ValueError, match="finite"):
        estimate_network([("a", "b", float("nan"), 0.1)])
    with pytest.raises(ValueError, match="not in the network"):
        estimate_network([("a", "b", 1.0, 0.1)], references={"z": (0.0, 0.1)})
    assert estimate_network([EdgeResult("a", "b", 1.0, 0.1)]).difference("a", "b")[0] == pytest.approx(1.0)


def test_edges_from_protocol_estimates() -> None:
    ligands = [
        SmallMoleculeComponent.from_smiles(s, n)
        for n, s in [("benzene", "c1ccccc1"), ("toluene", "Cc1ccccc1"), ("phenol", "Oc1ccccc1")]
    ]
    hydration = plan_network(ligands, layout="star", reference="benzene")
    estimates = {t.key: (1.0 if t.state_b.name == "toluene" else -5.0, 0.2) for t in hydration.edges}
    edges = edges_from_estimates(hydration, estimates)
    assert sorted((e.a, e.b, e.dg, e.sigma) for e in edges) == [
        ("benzene", "phenol", -5.0, 0.2),
        ("benzene", "toluene", 1.0, 0.2),
    ]
    assert estimate_network(edges).difference("toluene", "phenol")[0] == pytest.approx(-6.0)

    pdb = "ATOM      1  CA  ALA A   1       0.000   0.000   0.000  1.00  0.00           C\n"
    binding = plan_network(
        ligands[:2], edges=[("benzene", "toluene")], protein=ProteinComponent.from_pdb(pdb, "toy")
    )
    values = {t.key: ((-3.0, 0.3) if t.state_a.protein is not None else (-1.0, 0.4)) for t in binding.edges}
    (edge,) = edges_from_estimates(binding, values)
    assert (edge.a, edge.b) == ("benzene", "toluene")
    assert edge.dg == pytest.approx(-2.0) and edge.sigma == pytest.approx(0.5)
    complex_only = {t.key: values[t.key] for t in binding.edges if t.state_a.protein is not None}
    assert edges_from_estimates(binding, complex_only) == []

"""A relative network's answer from its transformations' gathered estimates, with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fepflow.analysis.network import ligand_names
from fepflow.analysis.network_estimates import NotRelative, relative_network_estimates
from fepflow.models import ChemicalSystem, ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue, NetworkEstimates
from fepflow.models.results import EstimateRow, gather_values
from fepflow.planning import plan_network

SMILES = {"benzene": "c1ccccc1", "toluene": "Cc1ccccc1", "phenol": "Oc1ccccc1", "aniline": "Nc1ccccc1"}
PDB = "ATOM      1  CA  ALA A   1       0.000   0.000   0.000  1.00  0.00           C\n"


def _ligands(names: list[str]) -> list[SmallMoleculeComponent]:
    return [SmallMoleculeComponent.from_smiles(SMILES[n], n) for n in names]


def _row(key: str, repeats: list[tuple[float, float]], n_tasks: int | None = None) -> EstimateRow:
    """A transformation's row with its repeats (value, MBAR error) gathered the one way."""
    return EstimateRow.with_estimate(
        gather_values(repeats) if repeats else None,
        transformation=key,
        name=key,
        protocol="relative",
        n_tasks=len(repeats) if n_tasks is None else n_tasks,
    )


def _hydration(pairs: list[tuple[str, str]], **kw: object) -> AlchemicalNetwork:
    names = sorted({x for p in pairs for x in p})
    return plan_network(_ligands(names), edges=pairs, **kw)  # type: ignore[arg-type]


def _by_pair(result: NetworkEstimates) -> dict[tuple[str, str], object]:
    return {(e.ligand_a, e.ligand_b): e for e in result.edges}


def test_ligand_values_are_the_weighted_least_squares_solution() -> None:
    pairs = [("benzene", "toluene"), ("toluene", "phenol"), ("benzene", "phenol"), ("phenol", "aniline")]
    network = _hydration(pairs)
    measured = {("benzene", "toluene"): (0.8, 0.1), ("toluene", "phenol"): (-5.2, 0.2)}
    measured |= {("benzene", "phenol"): (-4.0, 0.3), ("phenol", "aniline"): (1.1, 0.15)}
    rows = [_row(t.key, [measured[ligand_names(t)]]) for t in network.edges]
    result = relative_network_estimates(network, rows)
    assert result.protocol == "relative-hydration" and not result.shifted_to_experiment
    assert result.warnings == []

    # reference: G_benzene = 0, weighted normal equations for the other three, then centred
    order = ["benzene", "toluene", "phenol", "aniline"]
    a = np.zeros((4, 3))
    for k, (x, y) in enumerate(measured):
        if order.index(y):
            a[k, order.index(y) - 1] += 1
        if order.index(x):
            a[k, order.index(x) - 1] -= 1
    w = np.diag([1 / s**2 for _, s in measured.values()])
    g = np.concatenate([[0.0], np.linalg.solve(a.T @ w @ a, a.T @ w @ [v for v, _ in measured.values()])])
    g -= g.mean()
    dg = {x.ligand: x.dg_kcal_mol for x in result.ligands}
    for name, value in zip(order, g, strict=True):
        assert dg[name] == pytest.approx(value, abs=1e-9)
    # ranked by ΔG, most favourable first, and every ligand connected
    assert [x.ligand for x in result.ligands] == [order[i] for i in np.argsort(g)]
    assert [x.rank for x in result.ligands] == [1, 2, 3, 4]
    assert all(x.connected and x.uncertainty_kcal_mol for x in result.ligands)


def test_a_three_edge_cycle_reports_its_closure_and_flags_its_edges() -> None:
    pairs = [("benzene", "toluene"), ("toluene", "phenol"), ("benzene", "phenol")]
    network = _hydration(pairs)
    # 1.0 + 1.0 - 1.5 = 0.5 around the cycle; σ = sqrt(3) 0.1 = 0.17: beyond 2σ
    values = {("benzene", "toluene"): 1.0, ("toluene", "phenol"): 1.0, ("benzene", "phenol"): 1.5}
    rows = [_row(t.key, [(values[ligand_names(t)], 0.1)]) for t in network.edges]
    result = relative_network_estimates(network, rows)
    (cycle,) = result.cycles
    assert abs(cycle.closure_kcal_mol) == pytest.approx(0.5)
    assert cycle.uncertainty_kcal_mol == pytest.approx(0.1 * math.sqrt(3))
    assert not cycle.within_2_sigma
    assert sorted(cycle.ligands) == ["benzene", "phenol", "toluene"]
    assert all(e.on_unclosed_cycle for e in result.edges)
    # the MLE spreads the closure evenly: A -> B becomes 1 - 0.5/3
    dg = {x.ligand: x.dg_kcal_mol or 0.0 for x in result.ligands}
    assert dg["toluene"] - dg["benzene"] == pytest.approx(1.0 - 0.5 / 3)

    # with error bars of 0.3 the same closure is within 2σ (0.5 < 2 x 0.52)
    loose = [_row(t.key, [(values[ligand_names(t)], 0.3)]) for t in network.edges]
    result = relative_network_estimates(network, loose)
    assert result.cycles[0].within_2_sigma and not any(e.on_unclosed_cycle for e in result.edges)


def test_binding_edges_are_complex_minus_solvent_with_repeats_gathered() -> None:
    network = plan_network(
        _ligands(["benzene", "toluene"]),
        edges=[("benzene", "toluene")],
        protein=ProteinComponent.from_pdb(PDB, "toy"),
    )
    complex_leg = next(t for t in network.edges if t.state_a.protein is not None)
    solvent_leg = next(t for t in network.edges if t.state_a.protein is None)
    rows = [
        _row(complex_leg.key, [(-3.0, 0.1), (-3.4, 0.1), (-3.2, 0.1)]),  # mean -3.2, stdev 0.2
        _row(solvent_leg.key, [(-1.0, 0.2), (-1.2, 0.2)], n_tasks=3),  # mean -1.1, stdev 0.141
    ]
    result = relative_network_estimates(network, rows)
    (edge,) = result.edges
    assert result.protocol == "relative-binding"
    assert (edge.ligand_a, edge.ligand_b) == ("benzene", "toluene")
    assert edge.legs == {"complex": complex_leg.key, "solvent": solvent_leg.key}
    assert edge.ddg_kcal_mol == pytest.approx(-3.2 - (-1.1))
    assert edge.n_repeats == 2  # the fewest over the legs
    assert edge.stdev_kcal_mol == pytest.approx(math.hypot(0.2, math.sqrt(0.02)))
    mbar_c, mbar_s = math.sqrt(3 * 0.01) / 3, math.sqrt(2 * 0.04) / 2
    assert edge.mbar_error_kcal_mol == pytest.approx(math.hypot(mbar_c, mbar_s))
    # openfe's convention: per leg the repeats' standard deviation (not the √n smaller standard error)
    assert edge.uncertainty_kcal_mol == pytest.approx(math.hypot(0.2, math.sqrt(0.02)))
    sem_c, sem_s = 0.2 / math.sqrt(3), math.sqrt(0.02) / math.sqrt(2)
    assert (
        edge.uncertainty_kcal_mol > math.hypot(max(sem_c, mbar_c), max(sem_s, mbar_s)) + 0.05
    )  # the old rule
    dg = {x.ligand: x.dg_kcal_mol for x in result.ligands}
    assert dg["toluene"] - dg["benzene"] == pytest.approx(-2.1)  # type: ignore[operator]

    # one leg without a result: no ΔΔG, both ligands wait for it
    waiting = relative_network_estimates(network, [rows[0], _row(solvent_leg.key, [], n_tasks=2)])
    assert waiting.edges[0].ddg_kcal_mol is None and waiting.edges[0].n_repeats == 0
    assert all(not x.connected and x.awaiting_results and x.dg_kcal_mol is None for x in waiting.ligands)
    assert waiting.warnings == ["no edge has a result yet"]


def test_experiment_shifts_the_values_and_gives_statistics() -> None:
    pairs = [("benzene", "toluene"), ("toluene", "phenol"), ("benzene", "phenol")]
    network = _hydration(pairs)
    truth = {"benzene": -0.9, "toluene": -0.8, "phenol": -6.6}
    rows = [
        _row(t.key, [(truth[ligand_names(t)[1]] - truth[ligand_names(t)[0]], 0.1)]) for t in network.edges
    ]
    expt = [ExperimentalValue(ligand=n, dg_kcal_mol=v, uncertainty_kcal_mol=0.2) for n, v in truth.items()]
    expt.append(ExperimentalValue(ligand="caffeine", dg_kcal_mol=-12.0))
    result = relative_network_estimates(network, rows, expt)
    assert result.shifted_to_experiment
    for x in result.ligands:  # consistent edges and experiment: the shifted values are experiment
        assert x.dg_kcal_mol == pytest.approx(truth[x.ligand], abs=1e-9)
        assert x.experimental_dg_kcal_mol == truth[x.ligand]
    assert result.ligands[0].ligand == "phenol" and result.ligands[0].rank == 1
    edges = _by_pair(result)
    assert edges[("benzene", "toluene")].experimental_ddg_kcal_mol == pytest.approx(0.1)  # type: ignore[attr-defined]
    assert edges[("benzene", "toluene")].experimental_uncertainty_kcal_mol == pytest.approx(
        0.2 * math.sqrt(2)
    )  # type: ignore[attr-defined]
    for stats in (result.edge_statistics, result.ligand_statistics):
        assert stats is not None and stats.n == 3
        assert stats.rmse is not None and stats.rmse.value == pytest.approx(0.0, abs=1e-9)
        assert stats.kendall_tau is not None and stats.kendall_tau.value == pytest.approx(1.0)
        assert stats.rmse.high > 0  # the error bars widen the interval
    assert result.warnings == ["experimental values for ligands not in the network ignored: caffeine"]


def test_disconnected_and_awaiting_ligands_are_flagged() -> None:
    pairs = [("benzene", "toluene"), ("toluene", "phenol"), ("phenol", "aniline")]
    network = _hydration(pairs)
    extra = ChemicalSystem(
        name="lonely",
        components={
            "ligand": SmallMoleculeComponent.from_smiles("CCO", "ethanol"),
            "solvent": SolventComponent(),
        },
    )
    network = AlchemicalNetwork(name=network.name, nodes=(*network.nodes, extra), edges=network.edges)
    rows = []
    for t in network.edges:
        a, b = ligand_names(t)
        if (a, b) == ("benzene", "toluene"):
            rows.append(_row(t.key, [(1.0, 0.1)]))
        elif (a, b) == ("toluene", "phenol"):
            rows.append(_row(t.key, [], n_tasks=1))  # still to run
        else:
            rows.append(_row(t.key, [], n_tasks=0))  # cancelled: will never have a result
    result = relative_network_estimates(network, rows)
    state = {x.ligand: (x.connected, x.awaiting_results, x.dg_kcal_mol is not None) for x in result.ligands}
    assert state == {
        "benzene": (True, False, True),
        "toluene": (True, False, True),
        "phenol": (False, True, False),
        "aniline": (False, False, False),
        "ethanol": (False, False, False),
    }
    assert result.warnings[0] == "no ΔG yet for phenol: edges still to finish will connect them"
    assert [w.split(" is ")[0] for w in result.warnings[1:]] == ["ligand aniline", "ligand ethanol"]
    assert [x.rank for x in result.ligands[:2]] == [1, 2]


def test_only_relative_networks_and_smoke_runs_are_recognised() -> None:
    from factories import hydration_network

    with pytest.raises(NotRelative, match="not a relative network"):
        relative_network_estimates(hydration_network(["methane", "ethanol"]), [])
    smoke = {"simulation": {"production_iterations": 5, "steps_per_iteration": 4, "timestep_fs": 4.0}}
    network = _hydration([("benzene", "toluene")], settings=smoke)
    result = relative_network_estimates(network, [_row(t.key, [(1.0, 0.1)]) for t in network.edges])
    assert result.smoke
    assert not relative_network_estimates(_hydration([("benzene", "toluene")]), []).smoke


def test_edges_are_weighted_by_the_repeat_spread_never_below_the_mbar_error() -> None:
    network = _hydration([("benzene", "toluene"), ("toluene", "phenol")])
    spread = {("benzene", "toluene"): [(1.0, 0.05), (1.6, 0.05), (1.3, 0.05)]}  # stdev 0.3
    spread[("toluene", "phenol")] = [(-5.0, 0.4), (-5.0, 0.4)]  # agree by chance: spread 0
    rows = [_row(t.key, spread[ligand_names(t)]) for t in network.edges]
    edges = _by_pair(relative_network_estimates(network, rows))
    assert edges[("benzene", "toluene")].uncertainty_kcal_mol == pytest.approx(0.3)  # type: ignore[attr-defined]
    # the old rule quoted max(0.3 / √3, 0.05 / √3) = 0.17 here
    floor = math.sqrt(2 * 0.4**2) / 2  # MBAR error of the mean of the two runs
    assert edges[("toluene", "phenol")].uncertainty_kcal_mol == pytest.approx(floor)  # type: ignore[attr-defined]

"""The allocation strategy on synthetic results: which transformation gets more compute, when it
stops, and whether it reaches a per-ligand target for less compute than adding repeats everywhere."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from fepflow.analysis.allocation import (
    Edge,
    Leg,
    Strategy,
    allocate,
    covariance,
    trace_reduction,
    worst_ligand,
)

LIGANDS = ["A", "B", "C", "D"]
CYCLE = [
    Edge("A", "B", ("t_ab",)),
    Edge("B", "C", ("t_bc",)),
    Edge("C", "D", ("t_cd",)),
    Edge("D", "A", ("t_da",)),
]


def legs_for(sigmas: dict[str, float], cost: float = 100.0, repeats: int = 1) -> dict[str, Leg]:
    return {
        k: Leg(key=k, sigma=s, done=float(repeats), repeats=repeats, unit_cost_s=cost, extendable=f"task-{k}")
        for k, s in sigmas.items()
    }


def test_trace_reduction_matches_the_pseudo_inverse_recomputed() -> None:
    rng = np.random.default_rng(7)
    names = [f"L{i}" for i in range(6)]
    pairs = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3), (1, 4)]
    edges = [Edge(names[i], names[j], (f"t{k}",)) for k, (i, j) in enumerate(pairs)]
    variances = {f"t{k}": float(v) for k, v in enumerate(rng.uniform(0.05, 1.0, len(pairs)))}
    cov = covariance(names, edges, variances)
    for k, (i, j) in enumerate(pairs):
        before = variances[f"t{k}"]
        after = before / 3.0
        predicted = trace_reduction(cov, i, j, 1.0 / after - 1.0 / before)
        recomputed = np.trace(cov) - np.trace(covariance(names, edges, {**variances, f"t{k}": after}))
        assert predicted == pytest.approx(recomputed, rel=1e-9, abs=1e-12)


def test_the_noisiest_bridge_gets_the_first_repeat_and_the_reason_says_so() -> None:
    chain = CYCLE[:3]  # A - B - C - D: every edge is the only path to a ligand
    legs = legs_for({"t_ab": 0.2, "t_bc": 0.2, "t_cd": 1.0})
    out = allocate(LIGANDS, chain, legs, Strategy(target_kcal_mol=0.05, budget_s=10_000, max_pending=1))
    assert [(d.action, d.transformation) for d in out.decisions] == [("repeat", "t_cd")]
    d = out.decisions[0]
    assert d.trace_after < d.trace_before
    assert d.worst_before[0] == "D" and d.worst_after[1] < d.worst_before[1]
    assert "t_cd" in d.reason and "C -> D" in d.reason
    assert "in flight" in out.stop and not out.done


def test_the_choice_is_the_best_reduction_per_second_found_by_brute_force() -> None:
    """In a cycle a noisy edge is bypassed by the precise path around it, so a repeat of a precise
    edge can lower the ligands' variance more: the choice must be the brute-force best."""
    legs = legs_for({"t_ab": 0.2, "t_bc": 0.25, "t_cd": 1.0, "t_da": 0.3})
    legs["t_bc"] = replace(legs["t_bc"], unit_cost_s=150.0)
    variances = {k: g.variance() for k, g in legs.items()}
    base = np.trace(covariance(LIGANDS, CYCLE, variances))
    gains = {
        k: (base - np.trace(covariance(LIGANDS, CYCLE, {**variances, k: g.variance(1.0)}))) / g.unit_cost_s
        for k, g in legs.items()
    }
    out = allocate(LIGANDS, CYCLE, legs, Strategy(target_kcal_mol=0.01, budget_s=10_000, max_pending=1))
    assert out.decisions[0].transformation == max(gains, key=gains.__getitem__)
    assert out.decisions[0].transformation != "t_cd"


def test_cost_counts_an_equally_noisy_but_cheaper_edge_wins() -> None:
    legs = legs_for({"t_ab": 0.5, "t_bc": 0.5, "t_cd": 0.5, "t_da": 0.5})
    legs["t_ab"] = replace(legs["t_ab"], unit_cost_s=400.0)
    legs["t_cd"] = replace(legs["t_cd"], unit_cost_s=50.0)
    out = allocate(LIGANDS, CYCLE, legs, Strategy(target_kcal_mol=0.01, budget_s=10_000, max_pending=1))
    assert out.decisions[0].transformation == "t_cd"


def test_a_two_leg_edge_adds_to_its_noisier_leg() -> None:
    edges = [Edge("A", "B", ("complex", "solvent"))]
    legs = legs_for({"complex": 0.6, "solvent": 0.1})
    out = allocate(["A", "B"], edges, legs, Strategy(target_kcal_mol=0.01, budget_s=1000, max_pending=1))
    assert out.decisions[0].transformation == "complex"


def test_met_target_takes_no_decision_and_finishes() -> None:
    legs = legs_for({"t_ab": 0.1, "t_bc": 0.1, "t_cd": 0.1, "t_da": 0.1})
    out = allocate(LIGANDS, CYCLE, legs, Strategy(target_kcal_mol=0.2, budget_s=1000))
    assert out.decisions == [] and out.done and out.stop.startswith("target met")
    assert out.worst[1] <= 0.2


def test_pending_tasks_count_towards_the_target_so_nothing_is_decided_twice() -> None:
    legs = legs_for({"t_ab": 0.4, "t_bc": 0.4, "t_cd": 0.4, "t_da": 0.4})
    strategy = Strategy(target_kcal_mol=0.2, budget_s=100_000, max_pending=100)
    first = allocate(LIGANDS, CYCLE, legs, strategy)
    assert first.decisions and first.projected_worst[1] <= 0.2
    assert first.stop.startswith("target met once")
    added: dict[str, float] = {}
    for d in first.decisions:
        added[d.transformation] = added.get(d.transformation, 0.0) + d.units
    queued = {
        k: replace(g, pending=added.get(k, 0.0), repeats=g.repeats + int(added.get(k, 0)))
        for k, g in legs.items()
    }
    again = allocate(LIGANDS, CYCLE, queued, strategy, in_flight=len(first.decisions))
    assert again.decisions == [] and not again.done


def test_budget_caps_the_decisions_and_a_spent_budget_finishes() -> None:
    legs = legs_for({"t_ab": 0.5, "t_bc": 0.5, "t_cd": 0.5, "t_da": 0.5}, cost=100.0)
    strategy = Strategy(target_kcal_mol=0.01, budget_s=250.0, max_pending=10)
    out = allocate(LIGANDS, CYCLE, legs, strategy)
    assert len(out.decisions) == 2 and out.spent_s == pytest.approx(200.0)
    assert out.stop.startswith("budget spent") and not out.done
    spent = allocate(LIGANDS, CYCLE, legs, strategy, spent_s=200.0)
    assert spent.decisions == [] and spent.done and spent.stop.startswith("budget spent")


def test_beyond_max_repeats_the_strategy_extends_a_complete_task() -> None:
    legs = legs_for({"t_ab": 0.2, "t_bc": 0.2, "t_cd": 1.0}, repeats=3)
    legs["t_ab"] = replace(legs["t_ab"], repeats=2)
    legs["t_ab"] = replace(legs["t_ab"], sigma=0.01)  # a repeat is possible here but gains little
    strategy = Strategy(target_kcal_mol=0.01, budget_s=1000, max_pending=1, max_repeats=3)
    out = allocate(LIGANDS, CYCLE[:3], legs, strategy)
    d = out.decisions[0]
    assert (d.action, d.transformation, d.task, d.units) == ("extend", "t_cd", "task-t_cd", 0.5)
    assert d.cost_s == pytest.approx(50.0) and "extension" in d.reason


def test_synthetic_campaign_reaches_the_target_for_less_compute_than_uniform_repeats() -> None:
    """Six ligands, eight edges whose per-repeat σ differ by 6x (F hangs on one noisy edge): add
    repeats where the strategy says, as if each finished at once with σ_t = s_t / sqrt(n_t), until it
    stops; then compare with adding repeats to every edge in turn until the same target is met."""
    names = ["A", "B", "C", "D", "E", "F"]
    pairs = [("A", "B"), ("B", "C"), ("C", "D"), ("D", "E"), ("E", "A"), ("A", "C"), ("B", "D"), ("E", "F")]
    per_repeat = [0.3, 0.3, 1.8, 0.4, 0.3, 1.2, 0.3, 1.5]
    edges = [Edge(a, b, (f"t{k}",)) for k, (a, b) in enumerate(pairs)]
    target = 0.3
    strategy = Strategy(target_kcal_mol=target, budget_s=1e6, max_pending=2, max_repeats=100)

    def legs(n: dict[str, int]) -> dict[str, Leg]:
        return {
            f"t{k}": Leg(f"t{k}", s / math.sqrt(n[f"t{k}"]), float(n[f"t{k}"]), 0.0, n[f"t{k}"], 60.0)
            for k, s in enumerate(per_repeat)
        }

    n = {f"t{k}": 1 for k in range(len(pairs))}
    spent = 0.0
    for _ in range(200):
        out = allocate(names, edges, legs(n), strategy, spent_s=spent)
        if out.done:
            break
        for d in out.decisions:
            n[d.transformation] += 1
            spent += d.cost_s
    assert out.done and out.worst[1] <= target
    assert n["t7"] == max(n.values()) and n["t7"] > 4  # the bridge to F: no other path lowers its σ

    uniform = {f"t{k}": 1 for k in range(len(pairs))}
    uniform_spent = 0.0
    while (
        worst_ligand(names, covariance(names, edges, {k: g.variance() for k, g in legs(uniform).items()}))[1]
        > target
    ):
        for k in uniform:
            uniform[k] += 1
            uniform_spent += 60.0
    assert spent < 0.6 * uniform_spent


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target_kcal_mol": 0.0, "budget_s": 1.0},
        {"target_kcal_mol": math.nan, "budget_s": 1.0},
        {"target_kcal_mol": 0.1, "budget_s": -1.0},
        {"target_kcal_mol": 0.1, "budget_s": 1.0, "max_pending": 0},
        {"target_kcal_mol": 0.1, "budget_s": 1.0, "extend_fraction": 0.0},
    ],
)
def test_a_bad_strategy_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Strategy(**kwargs)  # type: ignore[arg-type]


def test_a_disconnected_network_or_a_missing_leg_is_refused() -> None:
    legs = legs_for({"t_ab": 0.2, "t_cd": 0.2})
    strategy = Strategy(target_kcal_mol=0.1, budget_s=100)
    with pytest.raises(ValueError, match="disconnected"):
        allocate(LIGANDS, [CYCLE[0], CYCLE[2]], legs, strategy)
    with pytest.raises(ValueError, match="no state"):
        allocate(LIGANDS, CYCLE, legs, strategy)

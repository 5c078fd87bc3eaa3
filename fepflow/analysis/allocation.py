"""Where more compute lowers a relative network's per-ligand uncertainty most: the allocation strategy.

The network's maximum-likelihood ligand values (:func:`fepflow.analysis.network.estimate_network`)
have covariance ``C = F⁺`` with ``F = Σ_edges w_e b_e b_eᵀ``, ``b_e = e_a - e_b`` and
``w_e = 1/σ_e²``. A ligand's uncertainty is ``sqrt(C_ii)`` (the values the hub and Dagit show), and
the strategy lowers their sum of variances, ``tr C``, which is the quantity every ligand shares.

**Variance model.** A transformation's σ² falls as its sampling grows: with ``T`` units of sampling
done (one unit = one repeat of the protocol's production length; an extension of a fraction ``f``
of it adds ``f``) and ``P`` units asked for and not yet done, its projected variance is
``σ² · T / (T + P)``. An edge's variance is the sum of its legs' (complex and solvent legs are
independent). Sampling that is queued or running counts as projected, so a decision is not taken
twice while its tasks run.

**Marginal reduction.** Adding ``ΔT`` units to leg ``t`` of edge ``e`` raises its weight by
``Δw = 1/σ_e'² - 1/σ_e²``. Since ``b_e`` lies in the range of ``F`` (the network is connected),
Sherman–Morrison holds for the pseudo-inverse:

    tr C' = tr C - Δw · b_eᵀ C² b_e / (1 + Δw · b_eᵀ C b_e)

Each candidate (a repeat of a transformation, or an extension of one of its complete tasks once it
has ``max_repeats`` repeats) is scored by that reduction per second of compute (``ΔT`` times the
measured seconds of one unit of that transformation). The best ones are taken greedily, each one
updating the projection, while the projected worst ligand is above the target, the budget allows,
and the network has fewer than ``max_pending`` tasks of the strategy's in flight.

Everything here is pure (numbers in, decisions out); :mod:`fepflow.store.allocation` reads the
inputs from the index and records the decisions, and the Dagster sensor applies them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from fepflow.analysis.network import SIGMA_FLOOR, components

Action = Literal["repeat", "extend"]


@dataclass(frozen=True)
class Strategy:
    """A network's allocation strategy: the per-ligand target and the compute budget."""

    target_kcal_mol: float
    """Stop when every ligand's uncertainty (centred ML value) is at or below this."""
    budget_s: float
    """Compute seconds the strategy may add (charged at the expected cost of each decision)."""
    max_pending: int = 4
    """At most this many tasks the strategy added may be waiting or running at once."""
    max_repeats: int = 8
    """A transformation gets repeats up to this many; beyond it, its tasks are extended."""
    extend_fraction: float = 0.5
    """An extension adds this fraction of the production length to one complete task."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.target_kcal_mol) and self.target_kcal_mol > 0):
            raise ValueError(f"target_kcal_mol must be a positive number, got {self.target_kcal_mol}")
        if not (math.isfinite(self.budget_s) and self.budget_s >= 0):
            raise ValueError(f"budget_s must be a number >= 0, got {self.budget_s}")
        if self.max_pending < 1 or self.max_repeats < 1:
            raise ValueError("max_pending and max_repeats must be at least 1")
        if not 0 < self.extend_fraction <= 10:
            raise ValueError(f"extend_fraction must be in (0, 10], got {self.extend_fraction}")


@dataclass(frozen=True)
class Leg:
    """One transformation's state: its gathered σ, sampling done and queued, and what a unit costs."""

    key: str
    sigma: float
    """σ of its gathered estimate now, kcal/mol (the network fit's leg σ)."""
    done: float
    """Units of sampling its completed repeats hold (repeats, plus extensions as fractions)."""
    pending: float = 0.0
    """Units asked for and not done yet (waiting, scheduled or running tasks and extensions)."""
    repeats: int = 1
    """Repeats it has, complete or not (for ``max_repeats``)."""
    unit_cost_s: float = 1.0
    """Compute seconds of one unit (a repeat's measured time)."""
    extendable: str | None = None
    """A complete task of it that an extension would continue (None: extensions impossible)."""

    def variance(self, extra: float = 0.0) -> float:
        """Projected σ² with ``extra`` more units on top of those pending."""
        sigma = max(self.sigma, SIGMA_FLOOR)
        return sigma * sigma * self.done / (self.done + self.pending + extra)


@dataclass(frozen=True)
class Edge:
    """An edge ``a -> b`` between ligands and the transformations (legs) that measure it."""

    a: str
    b: str
    legs: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """One action the strategy takes, with the numbers that justify it."""

    action: Action
    transformation: str
    edge: tuple[str, str]
    units: float
    cost_s: float
    trace_before: float
    trace_after: float
    worst_before: tuple[str, float]
    worst_after: tuple[str, float]
    task: str | None = None
    """The complete task an extension continues (None for a repeat)."""

    @property
    def reason(self) -> str:
        """Why, in one line (what Dagit's sensor log and the decision record show)."""
        what = "a repeat" if self.action == "repeat" else f"an extension of {self.units:g} × production"
        gain = self.trace_before - self.trace_after
        return (
            f"{what} of {self.transformation[:24]}… (edge {self.edge[0]} -> {self.edge[1]}) lowers Σσ² of the "
            f"ligands by {gain:.4f} kcal²/mol² for {self.cost_s:.0f} s, the most per second of any "
            f"candidate; worst ligand {self.worst_before[0]} {self.worst_before[1]:.3f} -> "
            f"{self.worst_after[1]:.3f} kcal/mol (projected)"
        )


@dataclass(frozen=True)
class Allocation:
    """The decisions of one evaluation and why the strategy stopped where it did."""

    decisions: list[Decision]
    stop: str
    """Why no more decisions were taken (target met, budget spent, enough in flight, ...)."""
    worst: tuple[str, float]
    """The worst ligand and its uncertainty now (completed results only)."""
    projected_worst: tuple[str, float]
    """The same, once every pending and newly decided task has completed (projected)."""
    done: bool = False
    """True when the strategy is finished for good (target met by results, or budget spent)."""
    spent_s: float = 0.0
    """Compute charged by these decisions."""
    notes: list[str] = field(default_factory=list)


def covariance(names: Sequence[str], edges: Sequence[Edge], variances: Mapping[str, float]) -> np.ndarray:
    """The ML covariance ``F⁺`` of the ligands from each edge's variance (``variances`` per leg)."""
    index = {x: i for i, x in enumerate(names)}
    fisher = np.zeros((len(names), len(names)))
    for e in edges:
        w = 1.0 / sum(variances[k] for k in e.legs)
        i, j = index[e.a], index[e.b]
        fisher[i, i] += w
        fisher[j, j] += w
        fisher[i, j] -= w
        fisher[j, i] -= w
    return np.linalg.pinv(fisher, hermitian=True)


def worst_ligand(names: Sequence[str], cov: np.ndarray) -> tuple[str, float]:
    """The ligand with the largest uncertainty ``sqrt(C_ii)`` and that uncertainty."""
    diag = np.clip(np.diag(cov), 0.0, None)
    i = int(np.argmax(diag))
    return names[i], float(math.sqrt(diag[i]))


def trace_reduction(cov: np.ndarray, i: int, j: int, delta_w: float) -> float:
    """How much ``tr C`` falls when the weight of the edge between ligands ``i`` and ``j`` rises by
    ``delta_w`` (Sherman–Morrison; exact for a connected network)."""
    cb = cov[:, i] - cov[:, j]
    quad = float(cb[i] - cb[j])
    return float(delta_w * (cb @ cb) / (1.0 + delta_w * quad))


def _candidates(legs: Mapping[str, Leg], strategy: Strategy) -> list[tuple[str, Action, float]]:
    """(transformation, action, units) each leg could get now."""
    out: list[tuple[str, Action, float]] = []
    for leg in legs.values():
        if leg.repeats < strategy.max_repeats:
            out.append((leg.key, "repeat", 1.0))
        elif leg.extendable is not None:
            out.append((leg.key, "extend", strategy.extend_fraction))
    return out


def _best(
    names: Sequence[str],
    edges: Sequence[Edge],
    legs: Mapping[str, Leg],
    strategy: Strategy,
    budget_left: float,
) -> Decision | None:
    """The affordable candidate that lowers ``tr C`` most per second (None when none can)."""
    variances = {k: leg.variance() for k, leg in legs.items()}
    cov = covariance(names, edges, variances)
    trace, worst = float(np.trace(cov)), worst_ligand(names, cov)
    index = {x: i for i, x in enumerate(names)}
    edge_of = {k: e for e in edges for k in e.legs}
    best: tuple[float, str, Action, float, float] | None = None
    for key, action, units in _candidates(legs, strategy):
        leg, edge = legs[key], edge_of[key]
        cost = units * leg.unit_cost_s
        if cost > budget_left:
            continue
        before = sum(variances[k] for k in edge.legs)
        after = before - variances[key] + leg.variance(units)
        gain = trace_reduction(cov, index[edge.a], index[edge.b], 1.0 / after - 1.0 / before)
        score = gain / max(cost, 1e-9)
        if gain > 0 and (best is None or score > best[0]):
            best = (score, key, action, units, cost)
    if best is None:
        return None
    _, key, action, units, cost = best
    edge = edge_of[key]
    new_legs = {**legs, key: _with_pending(legs[key], action, units)}
    new_cov = covariance(names, edges, {k: leg.variance() for k, leg in new_legs.items()})
    return Decision(
        action=action,
        transformation=key,
        edge=(edge.a, edge.b),
        units=units,
        cost_s=cost,
        trace_before=trace,
        trace_after=float(np.trace(new_cov)),
        worst_before=worst,
        worst_after=worst_ligand(names, new_cov),
        task=legs[key].extendable if action == "extend" else None,
    )


def _with_pending(leg: Leg, action: Action, units: float) -> Leg:
    return replace(leg, pending=leg.pending + units, repeats=leg.repeats + (action == "repeat"))


def _why_none(legs: Mapping[str, Leg], strategy: Strategy, budget_left: float) -> str:
    """Why :func:`_best` found nothing: the budget, the caps, or no gain left."""
    candidates = _candidates(legs, strategy)
    if not candidates:
        return f"every transformation has {strategy.max_repeats} repeats and none can be extended"
    if all(units * legs[key].unit_cost_s > budget_left for key, _, units in candidates):
        spent = strategy.budget_s - budget_left
        return f"budget spent ({spent:.0f} of {strategy.budget_s:.0f} s charged; no candidate fits the rest)"
    return "no candidate lowers the uncertainty"


def check_network(names: Sequence[str], edges: Sequence[Edge], legs: Mapping[str, Leg]) -> None:
    """ValueError unless every edge's legs are known, each leg in one edge, and the edges connect
    every ligand (the ML fit needs all three)."""
    if not edges:
        raise ValueError("the network has no edges with results")
    index = {x: i for i, x in enumerate(names)}
    seen: set[str] = set()
    for e in edges:
        if e.a not in index or e.b not in index:
            raise ValueError(f"edge {e.a} -> {e.b} names a ligand not in the network")
        for k in e.legs:
            if k not in legs:
                raise ValueError(f"edge {e.a} -> {e.b}: leg {k} has no state")
            if k in seen:
                raise ValueError(f"transformation {k} is a leg of two edges")
            seen.add(k)
    for leg in legs.values():
        if not (math.isfinite(leg.sigma) and leg.sigma >= 0 and leg.done > 0 and leg.pending >= 0):
            raise ValueError(f"leg {leg.key}: σ {leg.sigma}, done {leg.done}, pending {leg.pending} invalid")
    groups = components(len(names), [(index[e.a], index[e.b]) for e in edges])
    if len(groups) > 1:
        raise ValueError(f"the edges leave {len(groups)} disconnected groups of ligands")


def allocate(
    names: Sequence[str],
    edges: Sequence[Edge],
    legs: Mapping[str, Leg],
    strategy: Strategy,
    *,
    spent_s: float = 0.0,
    in_flight: int = 0,
) -> Allocation:
    """The decisions to take now (see the module): ``legs`` by transformation key, ``spent_s`` the
    compute already charged to the strategy, ``in_flight`` its tasks still waiting or running."""
    check_network(names, edges, legs)
    now = covariance(names, edges, {k: replace(leg, pending=0.0).variance() for k, leg in legs.items()})
    worst = worst_ligand(names, now)
    if worst[1] <= strategy.target_kcal_mol:
        return Allocation([], f"target met: worst ligand {worst[0]} ± {worst[1]:.3f}", worst, worst, True)
    current = dict(legs)
    decisions: list[Decision] = []
    budget_left = strategy.budget_s - spent_s
    projected = worst_ligand(names, covariance(names, edges, {k: g.variance() for k, g in current.items()}))
    stop = ""
    while not stop:
        if projected[1] <= strategy.target_kcal_mol:
            stop = f"target met once in-flight tasks complete (projected {projected[1]:.3f} kcal/mol)"
        elif in_flight + len(decisions) >= strategy.max_pending:
            stop = f"{strategy.max_pending} tasks of the strategy in flight: waiting for their results"
        else:
            decision = _best(names, edges, current, strategy, budget_left)
            if decision is None:
                stop = _why_none(current, strategy, budget_left)
                continue
            decisions.append(decision)
            budget_left -= decision.cost_s
            current[decision.transformation] = _with_pending(
                current[decision.transformation], decision.action, decision.units
            )
            projected = decision.worst_after
    finished = not decisions and in_flight == 0 and not stop.startswith(("target", "no candidate lowers"))
    return Allocation(
        decisions, stop, worst, projected, done=finished, spent_s=float(sum(d.cost_s for d in decisions))
    )

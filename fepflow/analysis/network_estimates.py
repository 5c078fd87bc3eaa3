"""A relative network's answer (:class:`fepflow.models.network_results.NetworkEstimates`) from the
gathered estimates of its transformations and the experimental values of its ligands.

1. **Edges**: the transformations grouped into edges (:func:`fepflow.analysis.network.network_edges`);
   each edge's legs combined, ``ΔΔG = Σ sign · ΔG_leg`` (complex - solvent for binding; the
   transformation itself for hydration). Legs are independent, so the quoted uncertainty, the repeat
   spread and the MBAR error each add in quadrature over the legs. Each leg's quoted uncertainty is
   its headline error (:class:`fepflow.models.results.Estimate`: the repeats' standard deviation, or a
   single run's MBAR error), never below its MBAR error of the mean, so that two repeats which agree
   by chance do not give an edge an outsized weight in the fit of step 2.
2. **Ligands**: maximum-likelihood ΔG (:func:`fepflow.analysis.network.estimate_network`) over the
   largest group of ligands that computed edges connect. Ligands outside it get no ΔG and
   ``connected=False``, with a warning that says whether edges still to finish would connect them.
   The values are centred on zero, or shifted so that the mean over the ligands with experiment
   equals the experimental mean (cinnabar's convention) when experimental values are given.
3. **Cycles**: the closure of every independent cycle of the computed edges, and whether it is
   within 2σ; edges on a cycle that is not are flagged.
4. **Statistics** against experiment (:mod:`fepflow.analysis.statistics`): edge ΔΔG as computed
   against the experimental differences, ligand ΔG centred.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from fepflow.analysis.network import NetworkEdge, components, estimate_network, network_edges
from fepflow.analysis.statistics import agreement
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import (
    AgreementStatistics,
    CycleClosureEstimate,
    EdgeEstimate,
    ExperimentalValue,
    LigandEstimate,
    NetworkEstimates,
)
from fepflow.models.results import EstimateRow
from fepflow.models.smoke import is_smoke


class NotRelative(ValueError):
    """The network has no relative transformations (or mixes relative protocols)."""


def relative_network_estimates(
    network: AlchemicalNetwork,
    rows: Iterable[EstimateRow],
    experimental: Sequence[ExperimentalValue] = (),
) -> NetworkEstimates:
    """Everything a relative network's results say (see the module); ``rows`` are the gathered
    estimates of its transformations (any missing or without a value count as not computed yet)."""
    protocol = network_protocol(network)
    by_key = {r.transformation: r for r in rows}
    edges, warnings = network_edges(network)
    expt = {v.ligand: v for v in experimental}
    names = ligand_order(network, edges)
    unknown = sorted(set(expt) - set(names))
    if unknown:
        warnings.append(f"experimental values for ligands not in the network ignored: {', '.join(unknown)}")
    edge_rows = [_edge_estimate(edge, by_key, expt) for edge in edges]
    ligands, cycles, shifted, more = _ligand_estimates(names, edges, edge_rows, by_key, expt)
    _flag_unclosed(edge_rows, cycles)
    return NetworkEstimates(
        network=network.key,
        protocol=protocol,
        edges=edge_rows,
        ligands=ligands,
        cycles=cycles,
        shifted_to_experiment=shifted,
        edge_statistics=_edge_statistics(edge_rows),
        ligand_statistics=_ligand_statistics(ligands),
        warnings=warnings + more,
        smoke=any(is_smoke(t.settings) for t in network.edges),
    )


def network_protocol(network: AlchemicalNetwork) -> str:
    """The one relative protocol of the network's transformations; NotRelative otherwise."""
    protocols = sorted({t.protocol for t in network.edges})
    if len(protocols) != 1 or protocols[0] not in ("relative-binding", "relative-hydration"):
        found = ", ".join(protocols) or "none"
        raise NotRelative(
            f"network {network.key} is not a relative network (its protocols: {found}); "
            "per-molecule values of an absolute network are its results"
        )
    return protocols[0]


def ligand_order(network: AlchemicalNetwork, edges: Sequence[NetworkEdge]) -> list[str]:
    """The ligands by name: the small molecules of the network's systems and any an edge names."""
    names = {m.name for system in network.nodes for m in system.small_molecules().values()}
    return sorted(names | {x for edge in edges for x in (edge.a, edge.b)})


def _edge_estimate(
    edge: NetworkEdge, rows: dict[str, EstimateRow], expt: dict[str, ExperimentalValue]
) -> EdgeEstimate:
    legs = [(rows.get(key), sign) for key, sign in edge.legs.values()]
    out = EdgeEstimate(
        ligand_a=edge.a,
        ligand_b=edge.b,
        legs={leg: key for leg, (key, _) in edge.legs.items()},
        n_repeats=min((r.n_repeats if r is not None else 0 for r, _ in legs), default=0),
    )
    if edge.a in expt and edge.b in expt:
        out.experimental_ddg_kcal_mol = expt[edge.b].dg_kcal_mol - expt[edge.a].dg_kcal_mol
        out.experimental_uncertainty_kcal_mol = math.hypot(
            expt[edge.a].uncertainty_kcal_mol, expt[edge.b].uncertainty_kcal_mol
        )
    done = [(r, sign) for r, sign in legs if r is not None and r.dg_kcal_mol is not None]
    if edge.missing or len(done) < len(legs):
        return out
    out.ddg_kcal_mol = sum(sign * (r.dg_kcal_mol or 0.0) for r, sign in done)
    out.uncertainty_kcal_mol = _quadrature(_leg_sigma(r) for r, _ in done)
    out.stdev_kcal_mol = _quadrature(r.stdev_kcal_mol for r, _ in done)
    out.mbar_error_kcal_mol = _quadrature(r.mbar_error_kcal_mol for r, _ in done)
    return out


def _leg_sigma(row: EstimateRow) -> float:
    """A leg's σ in the edge: its headline error, floored by its MBAR error of the mean."""
    return max(row.uncertainty_kcal_mol or 0.0, row.mbar_error_kcal_mol or 0.0)


def _quadrature(values: Iterable[float | None]) -> float:
    return math.sqrt(sum((v or 0.0) ** 2 for v in values))


def _pending(edge: NetworkEdge, rows: dict[str, EstimateRow]) -> bool:
    """Whether every leg without a value still has tasks to finish (so the edge may yet be computed)."""
    if edge.missing:
        return False
    for key, _ in edge.legs.values():
        row = rows.get(key)
        if row is None or (row.dg_kcal_mol is None and row.n_tasks <= row.n_repeats):
            return False
    return True


def _ligand_estimates(
    names: list[str],
    edges: Sequence[NetworkEdge],
    edge_rows: Sequence[EdgeEstimate],
    rows: dict[str, EstimateRow],
    expt: dict[str, ExperimentalValue],
) -> tuple[list[LigandEstimate], list[CycleClosureEstimate], bool, list[str]]:
    """Ligand ΔG over the main connected group, its cycles, whether shifted, and warnings."""
    index = {x: i for i, x in enumerate(names)}
    computed = [e for e in edge_rows if e.ddg_kcal_mol is not None]
    groups = components(len(names), [(index[e.ligand_a], index[e.ligand_b]) for e in computed])
    main = max(groups, key=len) if computed else []
    ligands = {
        x: LigandEstimate(
            ligand=x,
            experimental_dg_kcal_mol=expt[x].dg_kcal_mol if x in expt else None,
            experimental_uncertainty_kcal_mol=expt[x].uncertainty_kcal_mol if x in expt else None,
            connected=index[x] in main,
        )
        for x in names
    }
    cycles: list[CycleClosureEstimate] = []
    shifted = False
    if main:
        members = [names[i] for i in main]
        cycles, shifted = _fit(members, computed, expt, ligands)
    warnings = _disconnected_warnings(names, main, edges, edge_rows, rows, ligands)
    _rank(ligands)
    ordered = sorted(ligands.values(), key=lambda e: (e.rank is None, e.rank or 0, index[e.ligand]))
    return ordered, cycles, shifted, warnings


def _fit(
    members: list[str],
    computed: Sequence[EdgeEstimate],
    expt: dict[str, ExperimentalValue],
    ligands: dict[str, LigandEstimate],
) -> tuple[list[CycleClosureEstimate], bool]:
    """Maximum-likelihood ΔG of ``members`` from the computed edges among them (filled into
    ``ligands``), shifted to experiment where any member has a value; the cycles."""
    inside = set(members)
    fit_edges = [
        (e.ligand_a, e.ligand_b, e.ddg_kcal_mol or 0.0, e.uncertainty_kcal_mol or 0.0)
        for e in computed
        if e.ligand_a in inside
    ]
    references = {x: (expt[x].dg_kcal_mol, expt[x].uncertainty_kcal_mol) for x in members if x in expt}
    est = estimate_network(fit_edges, references=references or None, names=members)
    for x in members:
        value, sigma = est.absolute[x] if est.absolute else (est.value(x), est.uncertainty(x))
        ligands[x].dg_kcal_mol, ligands[x].uncertainty_kcal_mol = value, sigma
    cycles = [
        CycleClosureEstimate(
            ligands=list(c.nodes),
            closure_kcal_mol=c.closure,
            uncertainty_kcal_mol=c.sigma,
            within_2_sigma=c.within_2_sigma,
        )
        for c in est.cycles
    ]
    return cycles, bool(references)


def _disconnected_warnings(
    names: list[str],
    main: list[int],
    edges: Sequence[NetworkEdge],
    edge_rows: Sequence[EdgeEstimate],
    rows: dict[str, EstimateRow],
    ligands: dict[str, LigandEstimate],
) -> list[str]:
    """Warnings about the ligands outside the main group, each marked ``awaiting_results`` where
    edges still to finish would connect it to the rest; the others are disconnected: no edge of
    the network that has or may still get a result links them."""
    index = {x: i for i, x in enumerate(names)}
    reachable = [
        (index[e.a], index[e.b])
        for e, row in zip(edges, edge_rows, strict=True)
        if row.ddg_kcal_mol is not None or _pending(e, rows)
    ]
    groups = components(len(names), reachable)
    hopeful = next((g for g in groups if main[0] in g), []) if main else max(groups, key=len)
    outside = [x for i, x in enumerate(names) if i not in main]
    for x in outside:
        ligands[x].awaiting_results = len(hopeful) > 1 and index[x] in hopeful
    lost = [x for x in outside if not ligands[x].awaiting_results]
    waiting = [x for x in outside if ligands[x].awaiting_results]
    warnings = []
    if not main:
        warnings.append("no edge has a result yet")
    elif waiting:
        warnings.append(f"no ΔG yet for {', '.join(waiting)}: edges still to finish will connect them")
    warnings += [
        f"ligand {x} is disconnected from the rest: no edge of the network that has or may still "
        "get a result links it"
        for x in lost
    ]
    return warnings


def _rank(ligands: dict[str, LigandEstimate]) -> None:
    """Rank 1 = most favourable (lowest) computed ΔG, over the ligands with one."""
    valued = sorted(
        (e for e in ligands.values() if e.dg_kcal_mol is not None), key=lambda e: e.dg_kcal_mol or 0.0
    )
    for rank, estimate in enumerate(valued, start=1):
        estimate.rank = rank


def _flag_unclosed(edges: Sequence[EdgeEstimate], cycles: Sequence[CycleClosureEstimate]) -> None:
    """Mark the edges that lie on a cycle whose closure exceeds 2σ."""
    steps = set()
    for cycle in cycles:
        if not cycle.within_2_sigma:
            ring = cycle.ligands
            steps |= {frozenset((ring[k], ring[(k + 1) % len(ring)])) for k in range(len(ring))}
    for edge in edges:
        edge.on_unclosed_cycle = frozenset((edge.ligand_a, edge.ligand_b)) in steps


def _edge_statistics(edges: Sequence[EdgeEstimate]) -> AgreementStatistics | None:
    pairs = [e for e in edges if e.ddg_kcal_mol is not None and e.experimental_ddg_kcal_mol is not None]
    if not pairs:
        return None
    return agreement(
        [e.ddg_kcal_mol or 0.0 for e in pairs],
        [e.experimental_ddg_kcal_mol or 0.0 for e in pairs],
        [e.uncertainty_kcal_mol or 0.0 for e in pairs],
        [e.experimental_uncertainty_kcal_mol or 0.0 for e in pairs],
    )


def _ligand_statistics(ligands: Sequence[LigandEstimate]) -> AgreementStatistics | None:
    pairs = [x for x in ligands if x.dg_kcal_mol is not None and x.experimental_dg_kcal_mol is not None]
    if not pairs:
        return None
    return agreement(
        [x.dg_kcal_mol or 0.0 for x in pairs],
        [x.experimental_dg_kcal_mol or 0.0 for x in pairs],
        [x.uncertainty_kcal_mol or 0.0 for x in pairs],
        [x.experimental_uncertainty_kcal_mol or 0.0 for x in pairs],
        centre=True,
    )

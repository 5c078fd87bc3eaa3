"""Downstream of the estimates: each relative network's answer (ΔΔG per edge, ΔG per ligand by
maximum likelihood, cycle closures, agreement with experiment), with checks on its cycles and its
connectivity. Dagit shows each network's ranked ligands as a table."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from fepflow.analysis.network_estimates import NotRelative, relative_network_estimates
from fepflow.models.network_results import LigandEstimate, NetworkEstimates
from fepflow.store.models import NotFound
from fepflow.store.network_estimates import NetworkEstimateStore, estimate_inputs, relative_network_keys
from orchestrator.assets.estimates import ROLLUP, transformation_estimates
from orchestrator.resources import IndexResource

NETWORK_CHECKS = [
    AssetCheckSpec(
        "cycle_closure",
        asset="network_estimates",
        description="every independent cycle of computed edges closes within 2σ",
    ),
    AssetCheckSpec(
        "ligands_connected",
        asset="network_estimates",
        description="no ligand is cut off from the rest (ligands whose edges are still running are not)",
    ),
]
MAX_TABLE_ROWS = 200
"""Ligands shown per network in Dagit (the stored estimates hold every one)."""


@asset(
    deps=[transformation_estimates],
    **ROLLUP,
    check_specs=NETWORK_CHECKS,
    description="Per relative network: ΔΔG per edge (legs combined, repeats gathered), ΔG per ligand by "
    "maximum likelihood (shifted to the experimental mean where given), cycle closures, statistics.",
)
def network_estimates(context: AssetExecutionContext, index: IndexResource) -> MaterializeResult:
    computed: list[tuple[str, NetworkEstimates]] = []
    with index.session() as idx:
        store = NetworkEstimateStore(idx)
        for key in relative_network_keys(idx):
            try:
                inputs = estimate_inputs(idx, key)
                estimates = relative_network_estimates(*inputs)
            except (NotFound, NotRelative) as exc:  # half-submitted, or mixing protocols
                context.log.warning(f"network {key}: no estimates ({exc})")
                continue
            store.put(estimates)
            computed.append((inputs.network.name or key, estimates))
    context.log.info(f"{len(computed)} relative networks estimated")
    return MaterializeResult(
        metadata={
            "networks": len(computed),
            "ligands": MetadataValue.md(ligand_tables(computed)),
        },
        check_results=network_checks(computed),
    )


def ligand_tables(computed: list[tuple[str, NetworkEstimates]]) -> str:
    """Each network's ligands ranked by ΔG, as Markdown (one heading and table per network)."""
    if not computed:
        return "none yet"
    parts = []
    for name, est in computed:
        head = f"### {name} ({est.network[:32]}…)" + (
            " — smoke run: numbers mean nothing" if est.smoke else ""
        )
        rows = [_ligand_row(x) for x in est.ligands[:MAX_TABLE_ROWS]]
        table = "| rank | ligand | ΔG (kcal/mol) | ± | experiment |\n|---|---|---|---|---|\n" + "\n".join(
            rows
        )
        parts.append(f"{head}\n\n{table}")
    return "\n\n".join(parts)


def _ligand_row(x: LigandEstimate) -> str:
    dg = "" if x.dg_kcal_mol is None else f"{x.dg_kcal_mol:+.2f}"
    sigma = "" if x.uncertainty_kcal_mol is None else f"{x.uncertainty_kcal_mol:.2f}"
    expt = "" if x.experimental_dg_kcal_mol is None else f"{x.experimental_dg_kcal_mol:+.2f}"
    state = "" if x.connected else (" (waiting for results)" if x.awaiting_results else " (disconnected)")
    return f"| {x.rank or ''} | {x.ligand}{state} | {dg} | {sigma} | {expt} |"


def network_checks(computed: list[tuple[str, NetworkEstimates]]) -> list[AssetCheckResult]:
    """WARN on any cycle beyond 2σ and on any ligand disconnected from the rest of its network
    (``computed``: each network's name and estimates)."""
    open_cycles = [
        f"{name}: {' -> '.join(c.ligands)} closes at {c.closure_kcal_mol:+.2f} ± {c.uncertainty_kcal_mol:.2f}"
        for name, e in computed
        for c in e.cycles
        if not c.within_2_sigma
    ]
    cut_off = [
        f"{name}: {x.ligand}"
        for name, e in computed
        for x in e.ligands
        if not x.connected and not x.awaiting_results
    ]
    waiting = sum(1 for _, e in computed for x in e.ligands if x.awaiting_results)
    return [
        AssetCheckResult(
            check_name="cycle_closure",
            passed=not open_cycles,
            severity=AssetCheckSeverity.WARN,
            description="; ".join(open_cycles) or "every cycle closes within 2σ",
            metadata={"cycles": sum(len(e.cycles) for _, e in computed), "beyond 2σ": len(open_cycles)},
        ),
        AssetCheckResult(
            check_name="ligands_connected",
            passed=not cut_off,
            severity=AssetCheckSeverity.WARN,
            description=("disconnected: " + "; ".join(cut_off))
            if cut_off
            else "every ligand is or will be connected",
            metadata={"disconnected": len(cut_off), "waiting for results": waiting},
        ),
    ]

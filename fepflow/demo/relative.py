"""``fepflow demo --relative``: relative hydration free energies around a cycle of FreeSolv molecules.

Plans a relative hydration network over a few small FreeSolv molecules with every ligand on a cycle
(default methane, ethane and methanol: three edges), submits it through the hub with FreeSolv's
experimental values, shows live progress while Dagster runs the simulations (explicit TIP3P, the
``fast`` preset at 20 iterations per window), then prints the network estimates: ΔΔG per edge,
the cycle closure, and ΔG per ligand by maximum likelihood shifted to the experimental mean, next to
FreeSolv's published absolute values (GAFF, TIP3P) and experiment. Leaves Dagit and the hub running;
run again, it reuses what exists.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from fepflow.data.freesolv import FreeSolvEntry, entries
from fepflow.demo.common import goodbye, report_failures, stack_client, watch
from fepflow.models.network_results import ExperimentalValue, NetworkEstimates

DEFAULT_MOLECULES = ("methane", "ethane", "methanol")
SCOPE = "demo-freesolv-relative"
PRESET = "fast"
ITERATIONS = 20
"""Production iterations per window with the ``fast`` preset: 20 ps per window, 11 windows. The
shortest length whose numbers mean something: at 15 iterations the methane-ethane-methanol edges
agree with FreeSolv's published GAFF differences within 0.3 kcal/mol and the cycle closes within
0.4 ± 0.6 kcal/mol (tests/integration/test_relative_hydration_cycle.py)."""


def _overrides(iterations: int | None) -> dict[str, Any] | None:
    return {"simulation": {"production_iterations": iterations}} if iterations else None


def _experimental(chosen: list[FreeSolvEntry]) -> list[ExperimentalValue]:
    return [
        ExperimentalValue(
            ligand=e.name, dg_kcal_mol=e.expt_kcal_mol, uncertainty_kcal_mol=e.expt_err_kcal_mol
        )
        for e in chosen
    ]


def _value(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "–"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def ligand_table(estimates: NetworkEstimates, chosen: list[FreeSolvEntry]) -> Table:
    """ΔG_hyd per ligand: fepflow (relative, shifted to the experimental mean), FreeSolv's absolute, expt."""
    shift = "shifted to the experimental mean" if estimates.shifted_to_experiment else "centred on zero"
    table = Table(title=f"ΔG_hyd per ligand (kcal/mol): maximum likelihood over the edges, {shift}")
    for col in ("ligand", "fepflow", "±", "FreeSolv calc. (absolute)", "experiment", "fepflow − expt"):
        table.add_column(col, justify="left" if col == "ligand" else "right")
    by_name = {e.name: e for e in chosen}
    for lig in estimates.ligands:
        published = by_name[lig.ligand].calc_gaff_kcal_mol if lig.ligand in by_name else None
        diff = (
            lig.dg_kcal_mol - lig.experimental_dg_kcal_mol
            if lig.dg_kcal_mol is not None and lig.experimental_dg_kcal_mol is not None
            else None
        )
        table.add_row(
            lig.ligand,
            _value(lig.dg_kcal_mol) if lig.dg_kcal_mol is not None else "not finished",
            _value(lig.uncertainty_kcal_mol, signed=False),
            _value(published),
            _value(lig.experimental_dg_kcal_mol),
            _value(diff),
        )
    return table


def edge_table(estimates: NetworkEstimates, chosen: list[FreeSolvEntry]) -> Table:
    """ΔΔG_hyd per edge against FreeSolv's published (absolute) differences and experiment's."""
    table = Table(title="ΔΔG_hyd(A -> B) per edge (kcal/mol)")
    for col in ("edge", "fepflow", "±", "FreeSolv calc. difference", "experimental difference"):
        table.add_column(col, justify="left" if col == "edge" else "right")
    by_name = {e.name: e for e in chosen}
    for edge in estimates.edges:
        a, b = by_name.get(edge.ligand_a), by_name.get(edge.ligand_b)
        published = b.calc_gaff_kcal_mol - a.calc_gaff_kcal_mol if a and b else None
        table.add_row(
            f"{edge.ligand_a} -> {edge.ligand_b}",
            _value(edge.ddg_kcal_mol) if edge.ddg_kcal_mol is not None else "not finished",
            _value(edge.uncertainty_kcal_mol, signed=False),
            _value(published),
            _value(edge.experimental_ddg_kcal_mol),
        )
    return table


def centred_mae(estimates: NetworkEstimates, reference: dict[str, float]) -> float | None:
    """Mean absolute deviation of the ligands' ΔG from ``reference`` after centring both on their means."""
    pairs = [
        (lig.dg_kcal_mol, reference[lig.ligand])
        for lig in estimates.ligands
        if lig.dg_kcal_mol is not None and lig.ligand in reference
    ]
    if len(pairs) < 2:
        return None
    mean_c = sum(c for c, _ in pairs) / len(pairs)
    mean_r = sum(r for _, r in pairs) / len(pairs)
    return sum(abs((c - mean_c) - (r - mean_r)) for c, r in pairs) / len(pairs)


def _summary_lines(estimates: NetworkEstimates, chosen: list[FreeSolvEntry]) -> list[str]:
    lines = [
        f"cycle {' -> '.join(c.ligands)}: closure {c.closure_kcal_mol:+.2f} ± {c.uncertainty_kcal_mol:.2f} kcal/mol"
        f" ({'within' if c.within_2_sigma else '[red]outside[/]'} 2σ)"
        for c in estimates.cycles
    ]
    for label, reference in (
        ("experiment", {e.name: e.expt_kcal_mol for e in chosen}),
        ("FreeSolv's published absolute values", {e.name: e.calc_gaff_kcal_mol for e in chosen}),
    ):
        mae = centred_mae(estimates, reference)
        if mae is not None:
            lines.append(f"MAE against {label} (both centred): [bold]{mae:.2f}[/] kcal/mol")
    stats = estimates.ligand_statistics
    if stats is not None and stats.rmse is not None:
        rmse = stats.rmse
        lines.append(
            f"RMSE against experiment (centred, n={stats.n}): {rmse.value:.2f} kcal/mol "
            f"[{rmse.low:.2f}, {rmse.high:.2f}] ({rmse.confidence:.0%} bootstrap interval)"
        )
    lines.extend(f"[yellow]{w}[/]" for w in estimates.warnings)
    return lines


def _chosen(names: list[str], console: Console) -> list[FreeSolvEntry] | None:
    by_name = {r.name: r for r in entries()}
    unknown = [m for m in names if m not in by_name]
    if unknown:
        console.print(
            f"[red]not in the FreeSolv development set:[/] {', '.join(unknown)}; choose from: {', '.join(sorted(by_name))}"
        )
        return None
    if len(set(names)) < 3:
        console.print("[red]a cycle needs at least three different molecules[/]")
        return None
    return [by_name[m] for m in dict.fromkeys(names)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fepflow.demo --relative", description=__doc__)
    parser.add_argument(
        "--molecules",
        nargs="+",
        default=list(DEFAULT_MOLECULES),
        help="three or more FreeSolv development-set names (default: %(default)s)",
    )
    parser.add_argument(
        "--preset", default=PRESET, help="protocol preset (default: %(default)s; 'production' is for GPUs)"
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=None,
        help=f"production iterations per window (default: {ITERATIONS} with the fast preset, else the preset's)",
    )
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="seconds to wait for the simulations")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(soft_wrap=True)  # keys and links never wrap, piped or not
    chosen = _chosen(args.molecules, console)
    if chosen is None:
        return 2
    iterations = args.iterations or (ITERATIONS if args.preset == PRESET else None)
    console.rule("[bold]fepflow demo: relative hydration free energies around a cycle (FreeSolv)")
    started = time.monotonic()
    length = f", {iterations} iterations per window" if iterations else ""
    with stack_client(console) as connected:
        if connected is None:
            return 1
        config, client = connected
        submitted = client.submit_ligands(
            [(e.name, e.smiles) for e in chosen],
            scope=SCOPE,
            protocol="relative-hydration",
            shape="cycles",
            preset=args.preset,
            settings=_overrides(iterations),
            experimental=_experimental(chosen),
            name=f"FreeSolv relative demo ({args.preset}{length})",
        )
        key = submitted.network
        again = "already submitted: reusing its results" if not submitted.created else "submitted"
        edges = [f"{e.ligand_a} -> {e.ligand_b}" for e in submitted.plan.edges] if submitted.plan else []
        console.print(
            f"network [cyan]{key}[/] {again}: {len(chosen)} molecules, {len(submitted.transformations)} "
            f"edges ({', '.join(edges)}), preset {args.preset!r}{length}"
        )
        counts = watch(client, key, console, args.timeout)
        estimates = client.network_estimates(key)
        console.print(edge_table(estimates, chosen))
        console.print(ligand_table(estimates, chosen))
        for line in _summary_lines(estimates, chosen):
            console.print(line)
        report_failures(console, key, counts)
        console.print("results page (signed link, 30 min; `fepflow page` makes a fresh one):")
        console.print(client.page_link(key), soft_wrap=True, highlight=False)  # alone, never wrapped
    goodbye(console, config, started)
    return 0

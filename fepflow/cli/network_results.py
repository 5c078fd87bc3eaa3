"""``fepflow results NET --by ligand|edge``: a relative network's estimates as tables, CSV, JSON or
cinnabar's CSV."""

from __future__ import annotations

import json

from rich.table import Table

from fepflow.analysis.network_export import cinnabar_csv, edge_csv, ligand_csv
from fepflow.cli.console import console, err
from fepflow.models.binding import CONTRIBUTIONS, LABELS
from fepflow.models.network_results import AgreementStatistics, NetworkEstimates, Statistic
from fepflow.models.results import UNCERTAINTY_NOTE, EstimateRow, uncertainty_basis, uncertainty_text


def show_network_estimates(estimates: NetworkEstimates, by: str, format: str) -> None:
    """Print ``estimates`` per ``by`` (ligand or edge) in ``format`` (table, csv, json or cinnabar;
    json is the hub's whole answer and cinnabar both of its blocks, whatever ``by``)."""
    if format == "json":
        console.out(json.dumps(estimates.model_dump(mode="json"), indent=1))
    elif format == "cinnabar":
        console.out(cinnabar_csv(estimates), end="")
    elif format == "csv":
        console.out(ligand_csv(estimates) if by == "ligand" else edge_csv(estimates), end="")
    else:
        if estimates.smoke:
            err.print("[yellow]smoke run: sampled far too briefly for these numbers to mean anything[/]")
        if by == "ligand":
            console.print(ligand_table(estimates))
            stats = estimates.ligand_statistics
        else:
            console.print(edge_table(estimates))
            if estimates.cycles:
                console.print(cycle_table(estimates))
            stats = estimates.edge_statistics
        console.print(UNCERTAINTY_NOTE)
        if stats is not None:
            quantity = "ΔG (centred)" if by == "ligand" else "ΔΔG"
            console.print(statistics_table(stats, f"{quantity} against experiment, {stats.n} values"))
    if format != "json":  # the warnings go to stderr, so the file on stdout stays clean
        for warning in estimates.warnings:
            err.print(f"[yellow]warning:[/] {warning}")


def _number(value: float | None, signed: bool = True) -> str:
    if value is None:
        return ""
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def ligand_table(estimates: NetworkEstimates) -> Table:
    """Ligands ranked by ΔG (most favourable first) with their uncertainty and experiment."""
    scale = "shifted to the experimental mean" if estimates.shifted_to_experiment else "centred on 0"
    table = Table(title=f"ΔG per ligand, {estimates.protocol} (kcal/mol, {scale})")
    for col in ("rank", "ligand", "ΔG", "±", "experiment", "status"):
        table.add_column(col)
    for x in estimates.ligands:
        note = "" if x.connected else ("waiting for results" if x.awaiting_results else "disconnected")
        table.add_row(
            str(x.rank or ""),
            x.ligand,
            _number(x.dg_kcal_mol),
            _number(x.uncertainty_kcal_mol, signed=False),
            _number(x.experimental_dg_kcal_mol),
            note,
        )
    return table


def edge_table(estimates: NetworkEstimates) -> Table:
    """Edges with ΔΔG ± its uncertainty, repeats, experiment and cycle-closure flags."""
    table = Table(title=f"ΔΔG per edge, {estimates.protocol} (kcal/mol)")
    for col in ("A", "B", "ΔΔG", "±", "repeats", "experiment", "cycle"):
        table.add_column(col)
    for e in estimates.edges:
        table.add_row(
            e.ligand_a,
            e.ligand_b,
            _number(e.ddg_kcal_mol),
            uncertainty_text(e.uncertainty_kcal_mol, uncertainty_basis(e.n_repeats))
            if e.ddg_kcal_mol is not None
            else "",
            str(e.n_repeats),
            _number(e.experimental_ddg_kcal_mol),
            "beyond 2σ" if e.on_unclosed_cycle else "",
        )
    return table


def cycle_table(estimates: NetworkEstimates) -> Table:
    table = Table(title="cycle closures (kcal/mol)")
    for col in ("cycle", "closure", "±", "within 2σ"):
        table.add_column(col)
    for c in estimates.cycles:
        table.add_row(
            " -> ".join(c.ligands),
            _number(c.closure_kcal_mol),
            _number(c.uncertainty_kcal_mol, signed=False),
            "yes" if c.within_2_sigma else "NO",
        )
    return table


def statistics_table(stats: AgreementStatistics, title: str) -> Table:
    """RMSE, MUE, R² and Kendall τ with their bootstrap confidence intervals."""
    table = Table(title=title)
    for col in ("statistic", "value", "confidence interval"):
        table.add_column(col)
    named: list[tuple[str, Statistic | None]] = [
        ("RMSE (kcal/mol)", stats.rmse),
        ("MUE (kcal/mol)", stats.mue),
        ("R²", stats.r2),
        ("Kendall τ", stats.kendall_tau),
    ]
    for name, s in named:
        if s is None:
            table.add_row(name, "n/a", "")
        else:
            table.add_row(name, f"{s.value:.2f}", f"{s.confidence:.0%}: [{s.low:.2f}, {s.high:.2f}]")
    return table


def transformation_rows(rows: list[EstimateRow]) -> tuple[list[str], list[list[str]]]:
    """Columns and rows of per-transformation estimates; absolute binding's contributions
    (ΔG_complex, ΔG_solvent, ΔG_restraint; ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint) where any
    row has them."""
    binding = any(getattr(e, name) is not None for e in rows for name in CONTRIBUTIONS)
    extra = list(CONTRIBUTIONS) if binding else []
    columns = ["transformation", "protocol", "repeats", "ΔG", "±"] + [LABELS[name] for name in extra]
    out = [
        [e.name, e.protocol, f"{e.n_repeats}/{e.n_tasks}", _number(e.dg_kcal_mol)]
        + [uncertainty_text(e.uncertainty_kcal_mol, e.uncertainty_basis) if e.dg_kcal_mol is not None else ""]
        + [_number(getattr(e, name)) for name in extra]
        for e in rows
    ]
    return columns, out

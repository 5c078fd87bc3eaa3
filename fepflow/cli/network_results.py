"""``fepflow results NET --by ligand|edge``: a relative network's estimates as tables (at a terminal),
plain tab-separated lines (when piped), CSV, JSON or cinnabar's CSV.

Plain output is for scripts: each block (ligands or edges, then cycle closures and agreement with
experiment) is a ``# title`` line naming the network by its whole key, a header and tab-separated
rows, blocks separated by a blank line; nothing is wrapped, and edges carry their legs' whole
transformation keys.
"""

from __future__ import annotations

import json

from fepflow.analysis.network_export import cinnabar_csv, edge_csv, ligand_csv
from fepflow.cli.console import Block, as_table, console, err, print_plain_blocks
from fepflow.models.binding import CONTRIBUTIONS, LABELS
from fepflow.models.network_results import AgreementStatistics, NetworkEstimates, Statistic
from fepflow.models.results import UNCERTAINTY_NOTE, EstimateRow, uncertainty_basis, uncertainty_text
from fepflow.store.lookup import short_key


def show_network_estimates(estimates: NetworkEstimates, by: str, format: str) -> None:
    """Print ``estimates`` per ``by`` (ligand or edge) in ``format`` (table, plain, csv, json or
    cinnabar; json is the hub's whole answer and cinnabar both of its blocks, whatever ``by``)."""
    if format == "json":
        console.out(json.dumps(estimates.model_dump(mode="json"), indent=1))
    elif format == "cinnabar":
        console.out(cinnabar_csv(estimates), end="")
    elif format == "csv":
        console.out(ligand_csv(estimates) if by == "ligand" else edge_csv(estimates), end="")
    else:
        if estimates.smoke:
            err.print("[yellow]smoke run: sampled far too briefly for these numbers to mean anything[/]")
        plain = format == "plain"
        blocks = network_blocks(estimates, by, plain=plain)
        if plain:
            print_plain_blocks(blocks, note=UNCERTAINTY_NOTE)
        else:
            for block in blocks:
                console.print(as_table(block))
            console.print(UNCERTAINTY_NOTE)
    if format != "json":  # the warnings go to stderr, so the file on stdout stays clean
        for warning in estimates.warnings:
            err.print(f"[yellow]warning:[/] {warning}")


def network_blocks(estimates: NetworkEstimates, by: str, *, plain: bool = False) -> list[Block]:
    """The tables of ``by`` (ligand or edge): ligands, or edges and cycle closures; then agreement
    with experiment where there is any. ``plain``: the network's whole key in titles and the edges'
    legs as whole transformation keys (for scripts); else a short key and no legs (for a person)."""
    name = estimates.network if plain else short_key(estimates.network)
    if by == "ligand":
        blocks = [ligand_block(estimates, name)]
        stats = estimates.ligand_statistics
    else:
        blocks = [edge_block(estimates, name, legs=plain)]
        if estimates.cycles:
            blocks.append(cycle_block(estimates, name))
        stats = estimates.edge_statistics
    if stats is not None:
        quantity = "ΔG (centred)" if by == "ligand" else "ΔΔG"
        blocks.append(statistics_block(stats, f"{quantity} against experiment, {stats.n} values, {name}"))
    return blocks


def _number(value: float | None, signed: bool = True) -> str:
    if value is None:
        return ""
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def ligand_block(estimates: NetworkEstimates, name: str) -> Block:
    """Ligands ranked by ΔG (most favourable first) with their uncertainty and experiment."""
    scale = "shifted to the experimental mean" if estimates.shifted_to_experiment else "centred on 0"
    title = f"ΔG per ligand of {name}, {estimates.protocol} (kcal/mol, {scale})"
    columns = ["rank", "ligand", "ΔG", "±", "experiment", "status"]
    rows = []
    for x in estimates.ligands:
        note = "" if x.connected else ("waiting for results" if x.awaiting_results else "disconnected")
        rows.append(
            [
                str(x.rank or ""),
                x.ligand,
                _number(x.dg_kcal_mol),
                _number(x.uncertainty_kcal_mol, signed=False),
                _number(x.experimental_dg_kcal_mol),
                note,
            ]
        )
    return title, columns, rows


def edge_block(estimates: NetworkEstimates, name: str, *, legs: bool = False) -> Block:
    """Edges with ΔΔG ± its uncertainty, repeats, experiment and cycle-closure flags; with ``legs``
    a column per leg holding its transformation's whole key."""
    leg_names = list(dict.fromkeys(leg for e in estimates.edges for leg in e.legs)) if legs else []
    columns = ["A", "B", "ΔΔG", "±", "repeats", "experiment", "cycle"]
    columns += [f"{leg} transformation" for leg in leg_names]
    rows = [
        [
            e.ligand_a,
            e.ligand_b,
            _number(e.ddg_kcal_mol),
            uncertainty_text(e.uncertainty_kcal_mol, uncertainty_basis(e.n_repeats))
            if e.ddg_kcal_mol is not None
            else "",
            str(e.n_repeats),
            _number(e.experimental_ddg_kcal_mol),
            "beyond 2σ" if e.on_unclosed_cycle else "",
        ]
        + [e.legs.get(leg, "") for leg in leg_names]
        for e in estimates.edges
    ]
    return f"ΔΔG per edge of {name}, {estimates.protocol} (kcal/mol)", columns, rows


def cycle_block(estimates: NetworkEstimates, name: str) -> Block:
    rows = [
        [
            " -> ".join(c.ligands),
            _number(c.closure_kcal_mol),
            _number(c.uncertainty_kcal_mol, signed=False),
            "yes" if c.within_2_sigma else "NO",
        ]
        for c in estimates.cycles
    ]
    return f"cycle closures of {name} (kcal/mol)", ["cycle", "closure", "±", "within 2σ"], rows


def statistics_block(stats: AgreementStatistics, title: str) -> Block:
    """RMSE, MUE, R² and Kendall τ with their bootstrap confidence intervals."""
    named: list[tuple[str, Statistic | None]] = [
        ("RMSE (kcal/mol)", stats.rmse),
        ("MUE (kcal/mol)", stats.mue),
        ("R²", stats.r2),
        ("Kendall τ", stats.kendall_tau),
    ]
    rows = [
        [name, "n/a", ""]
        if s is None
        else [name, f"{s.value:.2f}", f"{s.confidence:.0%}: [{s.low:.2f}, {s.high:.2f}]"]
        for name, s in named
    ]
    return title, ["statistic", "value", "confidence interval"], rows


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

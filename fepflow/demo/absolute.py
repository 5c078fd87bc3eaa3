"""``make demo``: absolute hydration free energies of a few FreeSolv molecules, end to end.

Starts the embedded stack (or reuses a running one), submits a hydration network through the hub's
client, shows live progress while Dagster runs the simulations, then prints the estimates next to
FreeSolv's experimental and published calculated values, writes a report (correlation plot, overlap
matrices, convergence plots) and leaves Dagit and the hub running. Run again, it reuses what exists.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fepflow.analysis.report import (
    UNCERTAINTY_NOTE,
    MoleculeRow,
    PageFigure,
    agreement,
    correlation_png,
    pairs_against,
    render_html,
    uncertainty_text,
)
from fepflow.data.freesolv import FreeSolvEntry, entries
from fepflow.demo.common import goodbye, report_failures, stack_client, watch
from fepflow.hub.client import Client
from fepflow.hub.schemas import NetworkResults

DEFAULT_MOLECULES = ("methanol", "ethane", "toluene", "phenol")
SCOPE = "demo-freesolv-hydration"
PRESET = "fast"


def _rows(results: NetworkResults, chosen: list[FreeSolvEntry]) -> list[MoleculeRow]:
    values = {m.molecule: m for m in results.molecules}
    rows = []
    for entry in chosen:
        value = values.get(entry.name)
        rows.append(
            MoleculeRow(
                name=entry.name,
                dg_kcal_mol=value.dg_kcal_mol if value else None,
                uncertainty_kcal_mol=value.uncertainty_kcal_mol if value else None,
                uncertainty_basis=value.uncertainty_basis if value else None,
                experiment_kcal_mol=entry.expt_kcal_mol,
                published_kcal_mol=entry.calc_gaff_kcal_mol,
            )
        )
    return rows


def _method(client: Client, results: NetworkResults, preset: str) -> str:
    """Which solvent model and sampling length produced the numbers, from a result's own summary."""
    summary: dict[str, object] = {}
    for estimate in results.transformations:
        repeats = client.transformation_results(estimate.transformation).repeats
        if repeats:
            summary = dict(repeats[0].get("summary") or {})
            break
    solvent = str(summary.get("solvent_model") or "unknown solvent model")
    length = _sampling_length(summary)
    advice = (
        " Trust the `production` preset (explicit TIP3P, ns per state) on a GPU."
        if preset != "production"
        else ""
    )
    return f"preset {preset}: {solvent}; GAFF2/AM1-BCC; {length}.{advice}"


def _sampling_length(summary: dict[str, object]) -> str:
    """How long each leg sampled per state (legs stop once precise), from a task's summary."""
    settings, legs = summary.get("settings"), summary.get("legs")
    simulation = settings.get("simulation") if isinstance(settings, dict) else None
    ps_per_iteration = (
        float(simulation.get("steps_per_iteration", 0)) * float(simulation.get("timestep_fs", 0)) / 1000.0
        if isinstance(simulation, dict)
        else 0.0
    )
    sampled = {
        leg: int(values["n_iterations"]) * ps_per_iteration
        for leg, values in (legs.items() if isinstance(legs, dict) else [])
        if isinstance(values, dict) and isinstance(values.get("n_iterations"), int)
    }
    if not sampled or not ps_per_iteration:
        ns = summary.get("sampling_ns_per_state")
        return (
            f"{float(ns):.2f} ns of sampling per state"
            if isinstance(ns, int | float)
            else "sampling length unknown"
        )
    legs_text = ", ".join(f"{leg} {ps:.0f} ps" for leg, ps in sampled.items())
    return f"sampling per state ({legs_text} for the first molecule; each leg stops once precise)"


def _table(rows: list[MoleculeRow], method: str) -> Table:
    table = Table(title=f"ΔG_hyd (kcal/mol): {method}", caption=UNCERTAINTY_NOTE)
    for col in ("molecule", "fepflow", "±", "published calc.", "experiment", "fepflow − expt"):
        table.add_column(col, justify="left" if col == "molecule" else "right")
    for r in rows:
        diff = (
            f"{r.dg_kcal_mol - r.experiment_kcal_mol:+.2f}"
            if r.dg_kcal_mol is not None and r.experiment_kcal_mol is not None
            else "–"
        )
        table.add_row(
            r.name,
            f"{r.dg_kcal_mol:+.2f}" if r.dg_kcal_mol is not None else "not finished",
            uncertainty_text(r.uncertainty_kcal_mol, r.uncertainty_basis)
            if r.uncertainty_kcal_mol is not None
            else "",
            f"{r.published_kcal_mol:+.2f}" if r.published_kcal_mol is not None else "",
            f"{r.experiment_kcal_mol:+.2f}" if r.experiment_kcal_mol is not None else "",
            diff,
        )
    return table


def _report(
    client: Client, network: str, rows: list[MoleculeRow], counts: dict[str, int], method: str, folder: Path
) -> Path:
    """index.html with the correlation plot and every task's overlap and convergence plots."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "correlation.png").write_bytes(correlation_png(rows, title="ΔG_hyd, fepflow vs experiment"))
    figures = [
        PageFigure(
            "computed against experiment (open squares: FreeSolv's published GAFF values)", "correlation.png"
        )
    ]
    files = client.fetch_network(network, folder / "bundles")
    by_task: dict[str, dict[str, Path]] = {}
    for path in files:
        by_task.setdefault(path.parent.name, {})[path.name] = path
    for task_files in sorted(by_task.values(), key=lambda f: str(f.get("summary.json"))):
        summary = json.loads(task_files["summary.json"].read_text()) if "summary.json" in task_files else {}
        ligand = summary.get("ligand", "?")
        for name in sorted(task_files):
            if name.endswith(".png"):
                leg, kind = name[:-4].split("_", 1)
                figures.append(
                    PageFigure(f"{ligand}: {leg} leg, {kind}", str(task_files[name].relative_to(folder)))
                )
    page = render_html(
        title="fepflow demo: FreeSolv hydration free energies",
        subtitle=f"network {network}",
        status=counts,
        rows=rows,
        notes=[method],
        figures=figures,
        links=[(f"{p.parent.name[:20]}…/{p.name}", str(p.relative_to(folder))) for p in sorted(files)],
    )
    (folder / "index.html").write_text(page)
    return folder / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fepflow.demo", description=__doc__)
    parser.add_argument(
        "--molecules",
        nargs="+",
        default=list(DEFAULT_MOLECULES),
        help="FreeSolv development-set names (default: %(default)s)",
    )
    parser.add_argument(
        "--preset", default=PRESET, help="protocol preset (default: %(default)s; 'production' is for GPUs)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the simulations")
    args = parser.parse_args(argv)
    console = Console(soft_wrap=True)  # keys and links never wrap, piped or not
    rows_by_name = {r.name: r for r in entries()}
    unknown = [m for m in args.molecules if m not in rows_by_name]
    if unknown:
        console.print(
            f"[red]not in the FreeSolv development set:[/] {', '.join(unknown)}; choose from: {', '.join(sorted(rows_by_name))}"
        )
        return 2
    chosen = [rows_by_name[m] for m in args.molecules]
    console.rule("[bold]fepflow demo: absolute hydration free energies (FreeSolv)")

    started = time.monotonic()
    with stack_client(console) as connected:
        if connected is None:
            return 1
        config, client = connected
        submitted = client.submit_ligands(
            [(e.name, e.smiles) for e in chosen],
            scope=SCOPE,
            protocol="absolute-hydration",
            preset=args.preset,
            name=f"FreeSolv demo ({args.preset})",
        )
        network = submitted.network
        again = "already submitted: reusing its results" if not submitted.created else "submitted"
        console.print(f"network [cyan]{network}[/] {again} ({len(chosen)} molecules, preset {args.preset!r})")
        counts = watch(client, network, console, args.timeout)
        results = client.results(network)
        rows = _rows(results, chosen)
        method = _method(client, results, args.preset)
        console.print(_table(rows, method))
        for reference in ("experiment", "published"):
            stats = agreement(pairs_against(rows, reference))
            if stats:
                console.print(
                    f"MAE against {reference}: [bold]{stats.mae:.2f}[/] kcal/mol (RMSE {stats.rmse:.2f}, {stats.n} molecules)"
                )
        report_failures(console, network, counts)
        report = _report(client, network, rows, counts, method, config.home / "reports" / network[:32])
        page = client.page_link(network)
        console.print(f"\nreport: [bold]{report}[/] (open it in a browser)")
        console.print("results page (signed link, 30 min; `fepflow page` makes a fresh one):")
        console.print(page, soft_wrap=True, highlight=False)  # alone on its line, never wrapped
    goodbye(console, config, started)
    return 0

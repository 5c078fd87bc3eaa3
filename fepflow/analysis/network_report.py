"""The results page of a relative network, from its :class:`~fepflow.models.network_results.NetworkEstimates`.

What it shows, top to bottom: a banner when the results come from the smoke preset, the estimator's
warnings, the network graph (:func:`fepflow.analysis.network_plots.network_graph_png`), the ligands
ranked by ΔG with their 2-D depictions and experimental values, ΔG and ΔΔG against experiment with
RMSE, MUE, R² and Kendall τ (a sentence instead when no experiment was given), every edge's ΔΔG with its
repeats and MBAR error, the cycle closures, and each edge's plots (its legs' overlap and convergence, its
mapping) from the published bundles.

A pure function of its arguments: the hub passes signed links for the bundle files and the ligands'
depictions (SVG text, drawn by :func:`fepflow.mapping.draw_molecule`); the figures drawn here are
embedded as ``data:`` URIs, so the HTML stands alone.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence

from fepflow.analysis.network_plots import (
    OPEN_CYCLE_COLOUR,
    agreement_png,
    edge_points,
    format_statistic,
    ligand_points,
    network_graph_png,
)
from fepflow.analysis.report import PAGE_STYLE, PageFigure, figure_html, links_html, number
from fepflow.models.network_results import (
    AgreementStatistics,
    EdgeEstimate,
    LigandEstimate,
    NetworkEstimates,
)

SMOKE_BANNER = "smoke run: the numbers are not meaningful"
QUANTITY = {"relative-binding": "ΔG_bind", "relative-hydration": "ΔG_hyd"}
"""The free energy a protocol's ligand values are (ΔG of what)."""
NO_EXPERIMENT = (
    "No experimental values were given for this network, so there is no comparison with experiment."
)

_STYLE = (
    PAGE_STYLE + "h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}"
    "th{background:#f3f5f8;text-align:center}td.name{font-weight:600}td.depiction{padding:0;background:#fff}"
    "td.depiction img{width:150px;height:110px;display:block}"
    "tr.disconnected td{color:#999}.banner{background:#fff3cd;border:2px solid #e0a800;color:#6b4e00;"
    "padding:.7em 1em;font-size:1.15em;font-weight:700;border-radius:.4em;margin:1em 0}"
    ".warn{color:#8a4b00}.open{color:" + OPEN_CYCLE_COLOUR + ";font-weight:700}.ok{color:#2a7d2a}"
    "figure.thumb{margin:.3em}figure.thumb img{height:13em;width:auto;max-width:none}figure.graph img{max-width:46em}"
    "figcaption{font-size:.8em;color:#444;max-width:30em}.edge{margin:.8em 0}.edge h3{margin:.3em 0}"
    "figure.mapping{display:block}"
)


def data_uri(data: bytes | str, mime_type: str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return f"data:{mime_type};base64,{base64.b64encode(raw).decode()}"


def ranked(ligands: Sequence[LigandEstimate]) -> list[LigandEstimate]:
    """Ranked first (rank 1, 2, ...), then those without a rank by ΔG, then those without a value."""
    return sorted(
        ligands,
        key=lambda lig: (
            lig.rank is None,
            lig.rank or 0,
            lig.dg_kcal_mol is None,
            lig.dg_kcal_mol or 0.0,
            lig.ligand,
        ),
    )


def _with_error(value: float | None, error: float | None) -> str:
    """``"-5.19 ± 0.10"``, or the value alone when no error is known."""
    if value is None:
        return "–"
    return f"{value:+.2f} ± {error:.2f}" if error else f"{value:+.2f}"


def _ligand_table(estimates: NetworkEstimates, depictions: Mapping[str, str]) -> str:
    e = html.escape
    quantity = QUANTITY.get(estimates.protocol, "ΔG")
    scale = (
        "shifted so that their mean over the ligands with experiment is the experimental mean"
        if estimates.shifted_to_experiment
        else "relative values, centred on zero (no experiment to place them on its scale)"
    )
    rows = []
    for lig in ranked(estimates.ligands):
        svg = depictions.get(lig.ligand)
        picture = f"<img src='{data_uri(svg, 'image/svg+xml')}' alt='{e(lig.ligand)}'>" if svg else ""
        note = (
            ""
            if lig.connected
            else " (awaiting results)"
            if lig.awaiting_results
            else " (not connected to the rest)"
        )
        rows.append(
            f"<tr class='{'ligand' if lig.connected else 'ligand disconnected'}'>"
            f"<td>{lig.rank if lig.rank is not None else '–'}</td><td class='depiction'>{picture}</td>"
            f"<td class='name'>{e(lig.ligand)}{e(note)}</td><td>{number(lig.dg_kcal_mol)}</td>"
            f"<td>{number(lig.uncertainty_kcal_mol, False)}</td>"
            f"<td>{_with_error(lig.experimental_dg_kcal_mol, lig.experimental_uncertainty_kcal_mol)}</td></tr>"
        )
    return (
        f"<h2>Ligands ranked by {e(quantity)}</h2>"
        f"<p class='note'>Maximum-likelihood values from every edge, kcal/mol, {e(scale)}; "
        "rank 1 is the most favourable.</p>"
        "<table id='ligands'><thead><tr><th>rank</th><th>structure</th><th>ligand</th>"
        f"<th>{e(quantity)}</th><th>±</th><th>experiment</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _statistics_table(estimates: NetworkEstimates) -> str:
    """RMSE, MUE, R² and Kendall τ with their confidence intervals, for ΔG and ΔΔG side by side."""
    columns: list[tuple[str, AgreementStatistics | None]] = [
        ("ΔG, ligands (centred)", estimates.ligand_statistics),
        ("ΔΔG, edges", estimates.edge_statistics),
    ]
    head = "".join(f"<th>{html.escape(name)} (n = {s.n if s else 0})</th>" for name, s in columns)
    rows = []
    for label, attr, unit in (
        ("RMSE", "rmse", " kcal/mol"),
        ("MUE", "mue", " kcal/mol"),
        ("R²", "r2", ""),
        ("Kendall τ", "kendall_tau", ""),
    ):
        cells = "".join(
            f"<td>{html.escape(format_statistic('', getattr(s, attr) if s else None, unit).strip())}</td>"
            for _, s in columns
        )
        rows.append(f"<tr><td>{label}</td>{cells}</tr>")
    confidence = next(
        (st.confidence for _, s in columns if s for st in (s.rmse, s.mue, s.r2, s.kendall_tau) if st), 0.95
    )
    return (
        f"<table id='statistics'><thead><tr><th>against experiment</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p class='note'>Value [{confidence:.0%} bootstrap confidence interval].</p>"
    )


def _agreement_section(estimates: NetworkEstimates) -> str:
    quantity = QUANTITY.get(estimates.protocol, "ΔG")
    ligands, edges = ligand_points(estimates), edge_points(estimates)
    parts = ["<h2>Against experiment</h2>"]
    if not ligands and not edges:
        return parts[0] + f"<p id='no-experiment' class='note'>{html.escape(NO_EXPERIMENT)}</p>"
    if ligands:
        png = agreement_png(
            ligands, estimates.ligand_statistics, quantity=quantity, title=f"{quantity} per ligand, centred"
        )
        parts.append(figure_html(PageFigure(f"{quantity} per ligand (centred)", data_uri(png, "image/png"))))
    if edges:
        png = agreement_png(
            edges, estimates.edge_statistics, quantity=f"Δ{quantity}", title=f"Δ{quantity} per edge"
        )
        parts.append(figure_html(PageFigure(f"Δ{quantity} per edge", data_uri(png, "image/png"))))
    parts.append(_statistics_table(estimates))
    return "".join(parts)


def _edge_row(edge: EdgeEstimate) -> str:
    e = html.escape
    experiment = _with_error(edge.experimental_ddg_kcal_mol, edge.experimental_uncertainty_kcal_mol)
    return (
        f"<tr><td>{e(edge.ligand_a)} → {e(edge.ligand_b)}</td><td>{number(edge.ddg_kcal_mol)}</td>"
        f"<td>{number(edge.uncertainty_kcal_mol, False)}</td><td>{number(edge.stdev_kcal_mol, False)}</td>"
        f"<td>{number(edge.mbar_error_kcal_mol, False)}</td><td>{edge.n_repeats}</td><td>{experiment}</td></tr>"
    )


def _edge_table(estimates: NetworkEstimates) -> str:
    quantity = "Δ" + QUANTITY.get(estimates.protocol, "ΔG")
    legs = (
        "complex leg minus solvent leg"
        if estimates.protocol == "relative-binding"
        else "the transformation's own value"
    )
    return (
        f"<h2>Edges: {html.escape(quantity)}(A → B)</h2>"
        f"<p class='note'>kcal/mol, {legs}; ± is, per leg, the repeats' standard deviation (openfe's "
        "convention; never below the MBAR error), the legs added in quadrature; with one repeat it is "
        "that run's MBAR error alone, likely understated.</p><table id='edges'><thead><tr><th>edge</th><th>ΔΔG</th><th>±</th>"
        "<th>repeat s.d.</th><th>MBAR error</th><th>repeats</th><th>experiment</th></tr></thead><tbody>"
        + "".join(_edge_row(edge) for edge in estimates.edges)
        + "</tbody></table>"
    )


def _cycle_table(estimates: NetworkEstimates) -> str:
    e = html.escape
    if not estimates.cycles:
        return (
            "<h2>Cycle closures</h2><p id='no-cycles' class='note'>The network has no cycle (or no cycle "
            "with a result on every edge): no closure to check.</p>"
        )
    rows = []
    for cycle in estimates.cycles:
        path = " → ".join([*cycle.ligands, cycle.ligands[0]])
        verdict = (
            "<td class='ok'>closes within 2σ</td>"
            if cycle.within_2_sigma
            else "<td class='open'>open beyond 2σ</td>"
        )
        rows.append(
            f"<tr><td>{e(path)}</td><td>{number(cycle.closure_kcal_mol)}</td>"
            f"<td>{number(cycle.uncertainty_kcal_mol, False)}</td>{verdict}</tr>"
        )
    return (
        "<h2>Cycle closures</h2><p class='note'>The signed sum of ΔΔG around each independent cycle "
        "(0 when the edges agree), kcal/mol.</p><table id='cycles'><thead><tr><th>cycle</th>"
        "<th>closure</th><th>σ</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _edge_figures(
    estimates: NetworkEstimates, edge_figures: Mapping[tuple[str, str], Sequence[PageFigure]]
) -> str:
    if not any(edge_figures.values()):
        return ""
    parts = ["<h2>Each edge's legs: overlap and convergence</h2>"]
    for edge in estimates.edges:
        figures = edge_figures.get((edge.ligand_a, edge.ligand_b), ())
        if figures:
            parts.append(
                f"<div class='edge'><h3>{html.escape(edge.ligand_a)} → {html.escape(edge.ligand_b)}</h3>"
                + "".join(figure_html(fig, "thumb") for fig in figures)
                + "</div>"
            )
    return "".join(parts)


def render_network_html(
    estimates: NetworkEstimates,
    *,
    title: str,
    subtitle: str,
    status: Mapping[str, int],
    depictions: Mapping[str, str] | None = None,
    edge_figures: Mapping[tuple[str, str], Sequence[PageFigure]] | None = None,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The whole page: see the module. ``depictions``: ligand -> SVG text; ``edge_figures``:
    (ligand A, ligand B) -> the edge's plots; ``links``: (label, href) of the result files."""
    e = html.escape
    status_line = " · ".join(f"{e(k)} {v}" for k, v in status.items() if v) or "no tasks"
    body = [f"<h1>{e(title)}</h1>", f"<p class='sub'>{e(subtitle)} · {e(estimates.protocol)}</p>"]
    if estimates.smoke:
        body.append(f"<div id='smoke' class='banner'>⚠ {e(SMOKE_BANNER)}</div>")
    body.append(f"<p id='status'><b>tasks</b>: {status_line}</p>")
    if estimates.warnings:
        body.append(
            "<ul id='warnings'>"
            + "".join(f"<li class='warn'>{e(w)}</li>" for w in estimates.warnings)
            + "</ul>"
        )
    graph = data_uri(network_graph_png(estimates), "image/png")
    body += [
        "<h2>Network</h2>",
        figure_html(
            PageFigure(
                "edges coloured by their ΔΔG uncertainty; red dashed: on a cycle open beyond 2σ", graph
            ),
            "graph",
        ),
        _ligand_table(estimates, depictions or {}),
        _agreement_section(estimates),
        _edge_table(estimates),
        _cycle_table(estimates),
        _edge_figures(estimates, edge_figures or {}),
        links_html(links),
    ]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(body)}</body></html>"
    )

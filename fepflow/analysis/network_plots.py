"""Figures of a relative network's results (:class:`~fepflow.models.network_results.NetworkEstimates`):
the network graph with its edges coloured by ΔΔG uncertainty (red where an edge lies on a cycle that
does not close within 2σ), and ΔG (ligands, centred) and ΔΔG (edges) against experiment with the
agreement statistics in the plot.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot) and returned as PNG bytes.
"""

from __future__ import annotations

import io
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from fepflow.models.network_results import AgreementStatistics, NetworkEstimates, Statistic

UNCERTAINTY_CMAP = "viridis"
OPEN_CYCLE_COLOUR = "#d62728"
"""Edges on a cycle that does not close within 2σ."""
NO_VALUE_COLOUR = "0.6"
_DPI = 100


def png_bytes(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _graph_distances(n: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Shortest-path lengths (edges counted); unconnected pairs one beyond the longest path."""
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for i, j in pairs:
        neighbours[i].add(j)
        neighbours[j].add(i)
    dist = np.full((n, n), np.inf)
    for start in range(n):
        dist[start, start] = 0.0
        queue = deque([start])
        while queue:
            i = queue.popleft()
            for j in neighbours[i]:
                if math.isinf(dist[start, j]):
                    dist[start, j] = dist[start, i] + 1.0
                    queue.append(j)
    finite = dist[np.isfinite(dist)]
    dist[np.isinf(dist)] = (finite.max() if finite.size else 0.0) + 1.0
    return dist


def graph_layout(
    names: Sequence[str], pairs: Sequence[tuple[str, str]], iterations: int = 300
) -> dict[str, tuple[float, float]]:
    """Node positions in [-1, 1]² whose distances follow the graph's path lengths (stress
    majorisation, SMACOF, from a circle: deterministic, no overlapping nodes for small networks)."""
    n = len(names)
    if n < 3:
        return {name: (float(2 * i - n + 1), 0.0) for i, name in enumerate(names)}
    index = {name: i for i, name in enumerate(names)}
    dist = _graph_distances(n, [(index[a], index[b]) for a, b in pairs if a in index and b in index])
    angles = 2.0 * np.pi * np.arange(n) / n
    x = np.column_stack([np.cos(angles), np.sin(angles)]) * dist.mean()
    weights = np.zeros((n, n))
    off = ~np.eye(n, dtype=bool)
    weights[off] = 1.0 / dist[off] ** 2
    v = np.diag(weights.sum(axis=1)) - weights
    v_plus = np.linalg.pinv(v)
    for _ in range(iterations):
        current = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=-1)
        b = np.zeros((n, n))
        b[off] = -weights[off] * dist[off] / np.maximum(current[off], 1e-9)
        b[np.diag_indices(n)] = -b.sum(axis=1)
        x = v_plus @ b @ x
    x -= x.mean(axis=0)
    x /= max(float(np.abs(x).max()), 1e-9)
    return {name: (float(x[i, 0]), float(x[i, 1])) for i, name in enumerate(names)}


def _draw_nodes(
    axes: Axes, estimates: NetworkEstimates, pos: dict[str, tuple[float, float]]
) -> dict[str, Text]:
    """Each ligand as a labelled box (name, ΔG ± σ); the boxes, by name, for the arrows to stop at."""
    dg = {lig.ligand: lig for lig in estimates.ligands}
    boxes = {}
    for name, (x, y) in pos.items():
        lig = dg.get(name)
        value = (
            f"\n{lig.dg_kcal_mol:+.2f} ± {lig.uncertainty_kcal_mol or 0.0:.2f}"
            if lig is not None and lig.dg_kcal_mol is not None
            else ""
        )
        disconnected = lig is not None and not lig.connected
        boxes[name] = axes.text(
            x, y, f"{name}{value}", ha="center", va="center", fontsize=10, zorder=4,
            bbox={"boxstyle": "round,pad=0.5", "fc": "#f2f2f2" if disconnected else "#e8f0fb",
                  "ec": "0.6" if disconnected else "#4a6fa5", "lw": 1.3},
        )  # fmt: skip
    return boxes


def _draw_edges(axes: Axes, estimates: NetworkEstimates, boxes: dict[str, Text]) -> Normalize:
    """Arrows A -> B from box to box, coloured by σ (see :func:`network_graph_png`), labelled."""
    sigmas = [e.uncertainty_kcal_mol for e in estimates.edges if e.uncertainty_kcal_mol is not None]
    norm = Normalize(vmin=0.0, vmax=max([1.0, *sigmas]))
    cmap = colormaps[UNCERTAINTY_CMAP]
    for edge in estimates.edges:
        if edge.ligand_a not in boxes or edge.ligand_b not in boxes:
            continue
        box_a, box_b = boxes[edge.ligand_a], boxes[edge.ligand_b]
        (xa, ya), (xb, yb) = box_a.get_position(), box_b.get_position()
        bad = edge.on_unclosed_cycle
        colour: str | tuple[float, float, float, float]
        if edge.ddg_kcal_mol is None or edge.uncertainty_kcal_mol is None:
            colour, style, label = NO_VALUE_COLOUR, ":", "no result yet"
        else:
            colour = OPEN_CYCLE_COLOUR if bad else cmap(norm(edge.uncertainty_kcal_mol))
            style = "--" if bad else "-"
            label = f"{edge.ddg_kcal_mol:+.2f} ± {edge.uncertainty_kcal_mol:.2f}"
        axes.annotate(
            "", xy=(xb, yb), xytext=(xa, ya), zorder=1,
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 3.0, "linestyle": style,
                        "patchA": box_a.get_bbox_patch(), "patchB": box_b.get_bbox_patch(),
                        "shrinkA": 2, "shrinkB": 2, "mutation_scale": 18},
        )  # fmt: skip
        axes.text(
            (xa + xb) / 2, (ya + yb) / 2, label, fontsize=9, ha="center", va="center", zorder=3,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.9},
        )  # fmt: skip
    return norm


def network_graph_png(estimates: NetworkEstimates) -> bytes:
    """The network: ligands as nodes (labelled with their ΔG), edges as arrows A -> B labelled with
    ΔΔG ± σ and coloured by σ, with a colour bar; edges of a cycle that does not close within 2σ in
    red (dashed), edges without a result grey (dotted)."""
    names = [lig.ligand for lig in estimates.ligands] or sorted(
        {n for e in estimates.edges for n in (e.ligand_a, e.ligand_b)}
    )
    pos = graph_layout(names, [(e.ligand_a, e.ligand_b) for e in estimates.edges])
    figure = Figure(figsize=(7.5, 5.4))
    axes = figure.add_subplot()
    xs, ys = [x for x, _ in pos.values()] or [0.0], [y for _, y in pos.values()] or [0.0]
    axes.set_xlim(min(xs) - 0.35, max(xs) + 0.35)
    axes.set_ylim(min(ys) - 0.25, max(ys) + 0.25)
    norm = _draw_edges(axes, estimates, _draw_nodes(axes, estimates, pos))
    colour_bar = figure.colorbar(
        ScalarMappable(norm=norm, cmap=colormaps[UNCERTAINTY_CMAP]), ax=axes, fraction=0.04, pad=0.02,
        shrink=0.7,
    )  # fmt: skip
    colour_bar.set_label("ΔΔG uncertainty σ (kcal/mol)", fontsize=8)
    colour_bar.ax.tick_params(labelsize=7)
    handles = [Line2D([], [], color=OPEN_CYCLE_COLOUR, lw=3, ls="--", label="on a cycle open beyond 2σ")]
    if any(e.ddg_kcal_mol is None for e in estimates.edges):
        handles.append(Line2D([], [], color=NO_VALUE_COLOUR, lw=3, ls=":", label="no result yet"))
    axes.legend(handles=handles, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, -0.08), frameon=False)
    axes.set_axis_off()
    axes.set_title("ΔΔG(A → B) ± σ on the edges, ΔG ± σ on the ligands (kcal/mol)", fontsize=9)
    figure.tight_layout()
    return png_bytes(figure)


@dataclass(frozen=True)
class AgreementPoint:
    """One computed value against its experimental value (kcal/mol)."""

    label: str
    experiment: float
    computed: float
    computed_error: float = 0.0
    experiment_error: float = 0.0


def ligand_points(estimates: NetworkEstimates) -> list[AgreementPoint]:
    """Each ligand with a computed and an experimental ΔG, both centred on their mean over these."""
    have = [
        lig
        for lig in estimates.ligands
        if lig.dg_kcal_mol is not None and lig.experimental_dg_kcal_mol is not None
    ]
    if not have:
        return []
    calc_mean = sum(lig.dg_kcal_mol or 0.0 for lig in have) / len(have)
    expt_mean = sum(lig.experimental_dg_kcal_mol or 0.0 for lig in have) / len(have)
    return [
        AgreementPoint(
            lig.ligand,
            (lig.experimental_dg_kcal_mol or 0.0) - expt_mean,
            (lig.dg_kcal_mol or 0.0) - calc_mean,
            lig.uncertainty_kcal_mol or 0.0,
            lig.experimental_uncertainty_kcal_mol or 0.0,
        )
        for lig in have
    ]


def edge_points(estimates: NetworkEstimates) -> list[AgreementPoint]:
    """Each edge with a computed and an experimental ΔΔG."""
    return [
        AgreementPoint(
            f"{e.ligand_a}→{e.ligand_b}",
            e.experimental_ddg_kcal_mol,
            e.ddg_kcal_mol,
            e.uncertainty_kcal_mol or 0.0,
            e.experimental_uncertainty_kcal_mol or 0.0,
        )
        for e in estimates.edges
        if e.ddg_kcal_mol is not None and e.experimental_ddg_kcal_mol is not None
    ]


def format_statistic(name: str, stat: Statistic | None, unit: str = "") -> str:
    """``"RMSE 0.52 [0.31, 0.80] kcal/mol"`` (the interval at the statistic's confidence)."""
    if stat is None:
        return f"{name} –"
    return f"{name} {stat.value:.2f} [{stat.low:.2f}, {stat.high:.2f}]{unit}"


def statistics_lines(stats: AgreementStatistics | None) -> list[str]:
    """The agreement statistics, one per line, with their confidence intervals."""
    if stats is None:
        return []
    return [
        format_statistic("RMSE", stats.rmse, " kcal/mol"),
        format_statistic("MUE", stats.mue, " kcal/mol"),
        format_statistic("R²", stats.r2),
        format_statistic("Kendall τ", stats.kendall_tau),
    ]


def agreement_png(
    points: Sequence[AgreementPoint], stats: AgreementStatistics | None, *, quantity: str, title: str
) -> bytes:
    """Computed against experimental values with error bars, y = x and a ±1 kcal/mol band, each
    point labelled, and the statistics (with their confidence intervals) in a box."""
    figure = Figure(figsize=(5.4, 5.2))
    axes = figure.add_subplot()
    values = [v for p in points for v in (p.experiment, p.computed)]
    lo, hi = (min(values) - 1.0, max(values) + 1.0) if values else (-3.0, 3.0)
    axes.fill_between([lo, hi], [lo - 1, hi - 1], [lo + 1, hi + 1], color="0.92", label="±1 kcal/mol")
    axes.plot([lo, hi], [lo, hi], color="0.45", lw=1)
    axes.errorbar(
        [p.experiment for p in points], [p.computed for p in points],
        xerr=[p.experiment_error for p in points], yerr=[p.computed_error for p in points],
        fmt="o", color="tab:blue", ecolor="tab:blue", capsize=3, label="fepflow",
    )  # fmt: skip
    for p in points:
        axes.annotate(
            p.label, (p.experiment, p.computed), fontsize=7, xytext=(4, 4), textcoords="offset points"
        )
    lines = statistics_lines(stats)
    if lines and stats is not None:
        confidence = next((s.confidence for s in (stats.rmse, stats.r2) if s is not None), 0.95)
        text = f"n = {stats.n}, {confidence:.0%} CI\n" + "\n".join(lines)
        axes.text(
            0.97, 0.03, text, transform=axes.transAxes, fontsize=7.5, ha="right", va="bottom",
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"},
        )  # fmt: skip
    axes.set_title(title, fontsize=9)
    axes.set_xlim(lo, hi)
    axes.set_ylim(lo, hi)
    axes.set_aspect("equal")
    axes.set_xlabel(f"experimental {quantity} (kcal/mol)")
    axes.set_ylabel(f"computed {quantity} (kcal/mol)")
    axes.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    return png_bytes(figure)

"""A picture of a planned network: ligands as named boxes, edges as arrows A -> B coloured and labelled
by their mapping score, written as SVG and PNG by ``fepflow plan``.

Drawn on matplotlib's own canvases (no pyplot state); the layout is the results page's
(:func:`~fepflow.analysis.network_plots.graph_layout`), so a plan and its results look alike.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.text import Text

from fepflow.analysis.network_plots import graph_layout
from fepflow.models.plans import PlanReport

SCORE_CMAP = "RdYlGn"
SCORE_RANGE = (0.5, 1.0)
"""Scores below 0.5 (seven or more unmapped heavy atoms) share the colour of 0.5."""
_DPI = 150


def _title(report: PlanReport) -> str:
    n_cycles = len(report.cycles)
    shape = report.shape + (f" around {report.reference}" if report.reference else "")
    return (
        f"{report.name}\n{report.protocol}"
        + (f" in {report.protein.name}" if report.protein else "")
        + f", {shape}: {len(report.ligands)} ligands, "
        f"{len(report.edges)} edges, {n_cycles} cycle{'' if n_cycles == 1 else 's'}"
    )


def _nodes(axes: Axes, report: PlanReport, pos: dict[str, tuple[float, float]]) -> dict[str, Text]:
    boxes = {}
    for lig in report.ligands:
        x, y = pos[lig.name]
        measured = f"\nΔG exp. {lig.experimental.dg_kcal_mol:+.2f}" if lig.experimental else ""
        centre = lig.name == report.reference
        boxes[lig.name] = axes.text(
            x, y, f"{lig.name}{measured}", ha="center", va="center", fontsize=10, zorder=4,
            bbox={"boxstyle": "round,pad=0.5", "fc": "#fff4d6" if centre else "#e8f0fb",
                  "ec": "#b8860b" if centre else "#4a6fa5", "lw": 1.3},
        )  # fmt: skip
    return boxes


def _edges(
    axes: Axes, report: PlanReport, pos: dict[str, tuple[float, float]], boxes: dict[str, Text]
) -> Normalize:
    norm = Normalize(*SCORE_RANGE, clip=True)
    cmap = colormaps[SCORE_CMAP]
    for edge in report.edges:
        (xa, ya), (xb, yb) = pos[edge.ligand_a], pos[edge.ligand_b]
        colour = cmap(norm(edge.score)) if edge.score is not None else "0.6"
        axes.annotate(
            "", xy=(xb, yb), xytext=(xa, ya), zorder=2,
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 2.5, "shrinkA": 0, "shrinkB": 0,
                        "patchA": boxes[edge.ligand_a].get_bbox_patch(),
                        "patchB": boxes[edge.ligand_b].get_bbox_patch()},
        )  # fmt: skip
        label = "?" if edge.score is None else f"{edge.score:.2f}"
        axes.text(
            (xa + xb) / 2, (ya + yb) / 2, label, ha="center", va="center", fontsize=9, zorder=3,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.9},
        )  # fmt: skip
    return norm


def plan_figure(report: PlanReport) -> Figure:
    """The network of ``report`` (ligands, edges with mapping scores) as a matplotlib figure."""
    names = [lig.name for lig in report.ligands]
    pos = graph_layout(names, [(e.ligand_a, e.ligand_b) for e in report.edges])
    size = min(4.0 + 0.5 * len(names), 14.0)
    figure = Figure(figsize=(size + 1.5, size))
    axes = figure.add_subplot()
    boxes = _nodes(axes, report, pos)
    norm = _edges(axes, report, pos, boxes)
    if report.edges:
        bar = figure.colorbar(ScalarMappable(norm=norm, cmap=SCORE_CMAP), ax=axes, shrink=0.7)
        bar.set_label("mapping score (1 = every heavy atom mapped)")
    axes.set_xlim(-1.35, 1.35)
    axes.set_ylim(-1.3, 1.3)
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_title(_title(report), fontsize=11)
    figure.tight_layout()
    return figure


def write_plan_pictures(report: PlanReport, folder: Path, stem: str = "network") -> list[Path]:
    """``<stem>.svg`` (text kept as text) and ``<stem>.png`` of the plan in ``folder``."""
    figure = plan_figure(report)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "fepflow"}):
        for fmt in ("svg", "png"):
            path = folder / f"{stem}.{fmt}"
            figure.savefig(path, format=fmt, dpi=_DPI, metadata={"Date": None} if fmt == "svg" else None)
            written.append(path)
    return written

"""Small PNG figures of an MBAR result: the overlap matrix and forward/reverse convergence.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no global backend switch), at a
modest size and dpi so that each file stays well under 100 kB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fepflow.analysis.mbar import MBARResult, kT_kcal_per_mol

_DPI = 100


def _save(figure: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, format="png", dpi=_DPI)
    return path


def plot_overlap_matrix(result: MBARResult, path: Path, *, title: str | None = None) -> Path:
    """Write the MBAR overlap matrix as a PNG heat map (values printed for up to 16 states).

    Parameters
    ----------
    result : MBARResult
        The analysis result.
    path : pathlib.Path
        Where to write the PNG.
    title : str, optional
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    overlap = np.asarray(result.overlap_matrix)
    k = overlap.shape[0]
    size = min(8.0, 2.5 + 0.35 * k)
    figure = Figure(figsize=(size, size))
    axes = figure.add_subplot()
    image = axes.imshow(overlap, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    if k <= 16:
        for i in range(k):
            for j in range(k):
                value = overlap[i, j]
                if value >= 0.005:
                    color = "white" if value > 0.5 else "black"
                    axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=color)
    axes.set_xticks(range(k))
    axes.set_yticks(range(k))
    axes.tick_params(labelsize=7)
    axes.set_xlabel("state")
    axes.set_ylabel("state")
    axes.set_title(title or f"MBAR overlap (min neighbour {result.min_neighbour_overlap:.3f})", fontsize=9)
    figure.tight_layout()
    return _save(figure, path)


def plot_convergence(
    result: MBARResult, path: Path, *, temperature_K: float | None = None, title: str | None = None
) -> Path:
    """Write the forward/reverse ΔG convergence series as a PNG.

    Parameters
    ----------
    result : MBARResult
        The analysis result.
    path : pathlib.Path
        Where to write the PNG.
    temperature_K : float, optional
        Plot kcal/mol at this temperature instead of kT.
    title : str, optional
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    scale, label = (1.0, "kT") if temperature_K is None else (kT_kcal_per_mol(temperature_K), "kcal/mol")
    x = 100.0 * np.asarray(result.convergence_fractions)
    figure = Figure(figsize=(5.0, 3.5))
    axes = figure.add_subplot()
    final, error = result.dg_kT * scale, result.ddg_kT * scale
    axes.axhspan(final - error, final + error, color="0.85", label="final ± 1σ")
    for values, errors, name, marker in (
        (result.forward_dg_kT, result.forward_ddg_kT, "forward", "o"),
        (result.reverse_dg_kT, result.reverse_ddg_kT, "reverse", "s"),
    ):
        axes.errorbar(
            x, np.asarray(values) * scale, yerr=np.asarray(errors) * scale, marker=marker,
            markersize=4, capsize=2, linewidth=1, label=name,
        )  # fmt: skip
    axes.set_xlabel("fraction of decorrelated samples (%)")
    axes.set_ylabel(f"ΔG ({label})")
    axes.set_title(title or "forward / reverse convergence", fontsize=9)
    axes.legend(fontsize=7)
    figure.tight_layout()
    return _save(figure, path)

"""Reports of a network's results: a correlation plot against reference values, and an HTML page.

Used by ``make demo`` (a folder with index.html and its figures) and by the hub's results page (the
same page, its figures served by the hub). No web framework here: plain HTML with escaped values.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fepflow.models.results import UNCERTAINTY_NOTE, uncertainty_text


@dataclass(frozen=True)
class MoleculeRow:
    """One molecule's computed value and, where known, its references (kcal/mol)."""

    name: str
    dg_kcal_mol: float | None
    uncertainty_kcal_mol: float | None
    experiment_kcal_mol: float | None = None
    published_kcal_mol: float | None = None
    uncertainty_basis: str | None = None
    """What ``uncertainty_kcal_mol`` is (:func:`fepflow.models.results.uncertainty_basis`)."""


@dataclass(frozen=True)
class Agreement:
    n: int
    mae: float
    rmse: float
    r: float | None


def agreement(pairs: Sequence[tuple[float, float]]) -> Agreement | None:
    """MAE, RMSE and Pearson r of (computed, reference) pairs; None without any pair."""
    if not pairs:
        return None
    n = len(pairs)
    diffs = [c - r for c, r in pairs]
    mae = sum(abs(d) for d in diffs) / n
    rmse = math.sqrt(sum(d * d for d in diffs) / n)
    r_value = None
    if n > 2:
        xs, ys = [c for c, _ in pairs], [r for _, r in pairs]
        mx, my = sum(xs) / n, sum(ys) / n
        sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
        sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
        r_value = sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None
    return Agreement(n=n, mae=mae, rmse=rmse, r=r_value)


def pairs_against(rows: Sequence[MoleculeRow], reference: str) -> list[tuple[float, float]]:
    out = []
    for row in rows:
        ref = getattr(row, f"{reference}_kcal_mol")
        if row.dg_kcal_mol is not None and ref is not None:
            out.append((row.dg_kcal_mol, ref))
    return out


def _known(values: Iterable[float | None]) -> list[float]:
    """The values that are known (the rows plotted were chosen for having them)."""
    return [v for v in values if v is not None]


def correlation_png(rows: Sequence[MoleculeRow], *, title: str = "ΔG, computed vs experiment") -> bytes:
    """Computed against experimental values (error bars: the computed uncertainty), with y = x and
    a ±1 kcal/mol band; published calculated values as open markers where given."""
    figure = Figure(figsize=(5.2, 5.0))
    ax = figure.add_subplot()
    have = [r for r in rows if r.dg_kcal_mol is not None and r.experiment_kcal_mol is not None]
    values = [
        v for r in have for v in (r.dg_kcal_mol, r.experiment_kcal_mol, r.published_kcal_mol) if v is not None
    ]
    lo, hi = (min(values) - 1.0, max(values) + 1.0) if values else (-10.0, 2.0)
    ax.fill_between([lo, hi], [lo - 1, hi - 1], [lo + 1, hi + 1], color="0.9", label="±1 kcal/mol")
    ax.plot([lo, hi], [lo, hi], color="0.4", lw=1)
    ax.errorbar(
        _known(r.experiment_kcal_mol for r in have),
        _known(r.dg_kcal_mol for r in have),
        yerr=[r.uncertainty_kcal_mol or 0.0 for r in have],
        fmt="o",
        color="tab:blue",
        capsize=3,
        label="fepflow",
    )
    published = [r for r in have if r.published_kcal_mol is not None]
    if published:
        ax.plot(
            _known(r.experiment_kcal_mol for r in published),
            _known(r.published_kcal_mol for r in published),
            "s",
            mfc="none",
            color="tab:orange",
            label="published calculation",
        )
    for r in have:
        ax.annotate(
            r.name,
            (r.experiment_kcal_mol, r.dg_kcal_mol),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )  # type: ignore[arg-type]
    stats = agreement(pairs_against(have, "experiment"))
    if stats:
        title += f"\nMAE {stats.mae:.2f}, RMSE {stats.rmse:.2f} kcal/mol" + (
            f", r {stats.r:.2f}" if stats.r is not None else ""
        )
    ax.set_title(title, fontsize=9)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("experiment (kcal/mol)")
    ax.set_ylabel("computed (kcal/mol)")
    ax.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def number(value: float | None, signed: bool = True) -> str:
    """A value in kcal/mol as the pages print it (two decimals, signed unless told; "–" for None)."""
    if value is None:
        return "–"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


@dataclass(frozen=True)
class PageFigure:
    caption: str
    src: str
    css_class: str = ""
    """Added to the figure's class (e.g. ``"mapping"``: a drawing on a line of its own)."""


PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td:first-child{text-align:left}"
    "figure{display:inline-block;margin:.5em}img{max-width:32em}.sub,.note{color:#555}"
)
"""The pages' common style sheet."""


def figure_html(fig: PageFigure, css_class: str = "") -> str:
    """An image with its caption; ``onload`` records the decoded width, so that a headless browser's
    DOM dump shows which plots rendered."""
    e = html.escape
    classes = " ".join(c for c in (css_class, fig.css_class) if c)
    klass = f" class='{e(classes)}'" if classes else ""
    return (
        f"<figure{klass}><img src='{e(fig.src)}' alt='{e(fig.caption)}' "
        "onload='this.dataset.rendered=this.naturalWidth'>"
        f"<figcaption>{e(fig.caption)}</figcaption></figure>"
    )


def links_html(links: Sequence[tuple[str, str]]) -> str:
    """The result files' download links (label, href), under their heading; empty without any."""
    if not links:
        return ""
    e = html.escape
    items = "".join(f"<li><a href='{e(href)}'>{e(label)}</a></li>" for label, href in links)
    return f"<h2>Result data (GA4GH DRS)</h2><ul id='drs'>{items}</ul>"


def render_html(
    *,
    title: str,
    subtitle: str,
    status: dict[str, int],
    rows: Sequence[MoleculeRow],
    notes: Sequence[str] = (),
    figures: Sequence[PageFigure] = (),
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """A self-contained results page: status, estimates table with references and MAE, figures, links."""
    e = html.escape
    status_line = " · ".join(f"{e(k)} {v}" for k, v in status.items() if v) or "no tasks"
    body = [
        f"<h1>{e(title)}</h1>",
        f"<p class='sub'>{e(subtitle)}</p>",
        f"<p id='status'><b>tasks</b>: {status_line}</p>",
        "<table id='estimates'><thead><tr><th>molecule</th><th>ΔG (kcal/mol)</th><th>±</th>"
        "<th>published calc.</th><th>experiment</th></tr></thead><tbody>",
    ]
    for r in rows:
        body.append(
            f"<tr><td>{e(r.name)}</td><td>{number(r.dg_kcal_mol)}</td><td>{uncertainty_text(r.uncertainty_kcal_mol, r.uncertainty_basis)}</td>"
            f"<td>{number(r.published_kcal_mol)}</td><td>{number(r.experiment_kcal_mol)}</td></tr>"
        )
    body.append("</tbody></table>")
    for reference in ("experiment", "published"):
        stats = agreement(pairs_against(rows, reference))
        if stats:
            body.append(
                f"<p class='mae'>against {reference}: MAE {stats.mae:.2f} kcal/mol, RMSE {stats.rmse:.2f} "
                f"over {stats.n} molecules</p>"
            )
    body += [f"<p class='note'>{e(n)}</p>" for n in (UNCERTAINTY_NOTE, *notes)]
    body += [figure_html(fig) for fig in figures]
    body.append(links_html(links))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
        f"<style>{PAGE_STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def write_png(data: bytes, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path

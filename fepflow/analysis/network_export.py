"""A relative network's estimates as files: CSV per ligand or per edge, and the CSV cinnabar reads.

**cinnabar's CSV** (``cinnabar.FEMap.from_csv``, the format of its ``data/example.csv``)::

    # Experimental block
    # Ligand, expt_DDG, expt_dDDG
    benzene,-5.2000,0.1000

    # Calculated block
    # Ligand1,Ligand2, calc_DDG, calc_dDDG(MBAR), calc_dDDG(additional)
    benzene,toluene,-0.3000,0.0500,0.1200

cinnabar's reader takes a line of three comma-separated fields in the experimental block as
``ligand, ΔG, σ`` (the ligand name as written, not stripped) and a line of five in the calculated
block as ``A, B, ΔΔG(A -> B), σ_MBAR, σ_additional``, using ``σ_MBAR + σ_additional`` as the
edge's uncertainty; it switches blocks on any line that contains "Experiment", "Calculate" or
"Relative". So the MBAR column holds the edge's MBAR error and the additional column the rest of
the uncertainty fepflow quotes (their sum is :attr:`EdgeEstimate.uncertainty_kcal_mol`), only
edges with a computed ΔΔG are written, and a ligand name that cinnabar would misread (a comma,
a line break, surrounding spaces or one of those words) is refused with the reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from fepflow.models.network_results import EdgeEstimate, LigandEstimate, NetworkEstimates

CINNABAR_KEYWORDS = ("Experiment", "Calculate", "Relative")
"""Words that make cinnabar's CSV reader switch blocks wherever they appear on a line."""
LIGAND_COLUMNS = list(LigandEstimate.model_fields)
EDGE_COLUMNS = list(EdgeEstimate.model_fields)


def cinnabar_csv(estimates: NetworkEstimates) -> str:
    """The experimental values and the computed edges in the CSV cinnabar reads (see the module)."""
    for name in sorted({x.ligand for x in estimates.ligands} | _edge_ligands(estimates.edges)):
        _check_cinnabar_name(name)
    lines = ["# Experimental block", "# Ligand, expt_DDG, expt_dDDG"]
    lines += [
        f"{x.ligand},{x.experimental_dg_kcal_mol:.4f},{x.experimental_uncertainty_kcal_mol or 0.0:.4f}"
        for x in estimates.ligands
        if x.experimental_dg_kcal_mol is not None
    ]
    lines += ["", "# Calculated block", "# Ligand1,Ligand2, calc_DDG, calc_dDDG(MBAR), calc_dDDG(additional)"]
    for e in estimates.edges:
        if e.ddg_kcal_mol is None:
            continue
        mbar = e.mbar_error_kcal_mol or 0.0
        additional = max((e.uncertainty_kcal_mol or 0.0) - mbar, 0.0)
        lines.append(f"{e.ligand_a},{e.ligand_b},{e.ddg_kcal_mol:.4f},{mbar:.4f},{additional:.4f}")
    return "\n".join(lines) + "\n"


def _edge_ligands(edges: Iterable[EdgeEstimate]) -> set[str]:
    return {x for e in edges for x in (e.ligand_a, e.ligand_b)}


def _check_cinnabar_name(name: str) -> None:
    if "," in name or "\n" in name or "\r" in name or name != name.strip():
        raise ValueError(
            f"ligand name {name!r} cannot be written to cinnabar's CSV: it has a comma, a line break "
            "or surrounding spaces, which cinnabar's reader would split or keep"
        )
    word = next((w for w in CINNABAR_KEYWORDS if w in name), None)
    if word is not None:
        raise ValueError(
            f"ligand name {name!r} cannot be written to cinnabar's CSV: its reader takes any line "
            f"containing {word!r} for a block header"
        )


def ligand_csv(estimates: NetworkEstimates) -> str:
    """One row per ligand (ranked first), every field of :class:`LigandEstimate`."""
    return _csv(LIGAND_COLUMNS, (x.model_dump() for x in estimates.ligands))


def edge_csv(estimates: NetworkEstimates) -> str:
    """One row per edge, every field of :class:`EdgeEstimate` (``legs`` as ``leg=key;leg=key``)."""
    rows = []
    for e in estimates.edges:
        row = e.model_dump()
        row["legs"] = ";".join(f"{leg}={key}" for leg, key in e.legs.items())
        rows.append(row)
    return _csv(EDGE_COLUMNS, rows)


def _csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()

"""A relative network's estimates in the TSV shapes ``openfe gather`` writes, so tables and scripts
made for openfe's results read fepflow's:

* ``--report dg``: ``ligand``, ``DG(MLE) (kcal/mol)``, ``uncertainty (kcal/mol)``, one row per ligand
  (ΔG from the network's maximum-likelihood fit);
* ``--report ddg``: ``ligand_i``, ``ligand_j``, ``DDG(i->j) (kcal/mol)``, ``uncertainty (kcal/mol)``,
  one row per edge.

Like openfe, each estimate is written to the precision of its uncertainty's first significant
figure (12.3456 ± 0.0123 -> ``12.35`` and ``0.01``); a ligand or edge without a value yet reads
``Error`` in both columns, as openfe writes a failed one.
"""

from __future__ import annotations

import math

from fepflow.models.network_results import NetworkEstimates

DG_COLUMNS: tuple[str, ...] = ("ligand", "DG(MLE) (kcal/mol)", "uncertainty (kcal/mol)")
DDG_COLUMNS: tuple[str, ...] = ("ligand_i", "ligand_j", "DDG(i->j) (kcal/mol)", "uncertainty (kcal/mol)")
FAILED = "Error"
REPORTS = ("dg", "ddg")


def to_precision(value: float, uncertainty: float) -> tuple[str, str]:
    """``value`` and ``uncertainty`` to the decimal place of the uncertainty's first significant
    figure (at least one decimal: openfe never writes an estimate as a bare integer)."""
    if uncertainty <= 0 or not math.isfinite(uncertainty):
        return f"{value:.2f}", f"{max(uncertainty, 0.0):.2f}"
    place = math.floor(math.log10(uncertainty))
    decimals = max(1, -place)
    return f"{round(value, decimals):.{decimals}f}", f"{round(uncertainty, decimals):.{decimals}f}"


def _row(names: tuple[str, ...], value: float | None, uncertainty: float | None) -> str:
    if value is None:
        return "\t".join((*names, FAILED, FAILED))
    return "\t".join((*names, *to_precision(value, uncertainty or 0.0)))


def gather_tsv(estimates: NetworkEstimates, report: str = "dg") -> str:
    """The TSV ``openfe gather --report <report>`` writes, from fepflow's estimates."""
    if report == "dg":
        rows = [_row((x.ligand,), x.dg_kcal_mol, x.uncertainty_kcal_mol) for x in estimates.ligands]
        columns = DG_COLUMNS
    elif report == "ddg":
        rows = [
            _row((e.ligand_a, e.ligand_b), e.ddg_kcal_mol, e.uncertainty_kcal_mol) for e in estimates.edges
        ]
        columns = DDG_COLUMNS
    else:
        raise ValueError(f"report must be one of {', '.join(REPORTS)}, not {report!r}")
    bad = sorted({n for r in rows for n in r.split("\t")[:-2] if "\t" in n or "\n" in n})
    if bad:
        raise ValueError(f"ligand name {bad[0]!r} holds a tab or line break, which a TSV cannot")
    return "\n".join(["\t".join(columns), *rows]) + "\n"

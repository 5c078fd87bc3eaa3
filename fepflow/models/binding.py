"""The contributions behind an absolute binding free energy, averaged over a transformation's repeats.

A task of the ``absolute-binding`` protocol records ``contributions`` in its summary: the complex and
solvent legs' decoupling free energies and the restraint's standard-state correction, with
ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint (signs: :mod:`fepflow.protocols.absolute.binding`).
The hub, Dagster, ``fepflow results`` and the results page show their means next to ΔG_bind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

CONTRIBUTIONS = ("complex_kcal_mol", "solvent_kcal_mol", "restraint_correction_kcal_mol")
"""The numeric contributions, in the order they are shown (ΔG_complex, ΔG_solvent, ΔG_restraint)."""
LABELS = {
    "complex_kcal_mol": "ΔG_complex",
    "solvent_kcal_mol": "ΔG_solvent",
    "restraint_correction_kcal_mol": "ΔG_restraint",
}


def mean_contributions(summaries: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The mean of each contribution over the stored summaries that record them (empty if none do)."""
    rows = [s["contributions"] for s in summaries if isinstance(s.get("contributions"), Mapping)]
    rows = [r for r in rows if all(isinstance(r.get(name), int | float) for name in CONTRIBUTIONS)]
    if not rows:
        return {}
    return {name: sum(float(r[name]) for r in rows) / len(rows) for name in CONTRIBUTIONS}


def contribution_sentence(name: str, values: Mapping[str, Any]) -> str | None:
    """``values``' cycle in words for a reader of the results page (None without contributions)."""
    if any(values.get(key) is None for key in CONTRIBUTIONS):
        return None
    complex_, solvent, restraint = (float(values[key]) for key in CONTRIBUTIONS)
    return (
        f"{name}: ΔG_bind {solvent - complex_ - restraint:+.2f} = ΔG_solvent {solvent:+.2f} − ΔG_complex "
        f"{complex_:+.2f} − ΔG_restraint {restraint:+.2f} kcal/mol (means over repeats)"
    )

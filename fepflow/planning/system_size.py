"""How many atoms a chemical system will have once built, estimated before building it.

The solute's atoms are counted (a protein's PDB records, a ligand's atoms with hydrogens); in explicit
solvent, the water tleap's ``solvatebox`` adds is estimated from the box: the solute's extent plus the
padding on each side, filled with water at its density less the solute's own volume. A ligand without
coordinates is taken as a ball of its atoms. The estimate is meant to be within a factor of about 1.5
(methane at 1.2 nm: ~2,000 atoms; tleap adds 686 waters), enough to refuse a system far beyond what a
hub accepts before any work is done.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.systems import ChemicalSystem

WATERS_PER_NM3 = 25.0
"""Water as tleap's ``solvatebox`` packs it (liquid water has 33.4 per nm^3; tleap leaves gaps at the
box faces and near the solute, filled later by NPT equilibration): 686 waters in 31.7 nm^3 around
methane."""
SITES = {"tip3p": 3, "spce": 3, "tip4pew": 4, "opc": 4}
NM3_PER_SOLUTE_ATOM = 0.009
"""The volume one solute atom (hydrogens included) keeps free of water, about 9 Å^3."""
VDW_MARGIN_NM = 0.4
"""What tleap adds to the coordinates' span (atomic radii and its closeness parameter)."""


def estimate_atoms(system: ChemicalSystem, settings: dict[str, Any]) -> int:
    """The atoms of ``system`` once built with protocol ``settings`` (its ``system`` section: solvent
    model and padding); water is added only for a solvent component in explicit solvent."""
    section = settings.get("system") or {}
    solutes = [c for c in system.components.values() if not isinstance(c, SolventComponent)]
    n_solute = sum(_n_atoms(c) for c in solutes)
    solvents = [c for c in system.components.values() if isinstance(c, SolventComponent)]
    if not solvents or not _explicit(section):
        return n_solute
    padding = float(section.get("solvent_padding_nm", 1.2))
    extent = _extent(solutes)
    box = math.prod(side + 2 * padding for side in extent)
    water_volume = max(box - n_solute * NM3_PER_SOLUTE_ATOM, 0.0)
    sites = SITES.get(solvents[0].water_model, 3)
    return n_solute + round(water_volume * WATERS_PER_NM3 * sites)


def _explicit(section: dict[str, Any]) -> bool:
    return str(section.get("solvent_model", "tip3p")) in SITES


def _n_atoms(component: Any) -> int:
    if isinstance(component, SmallMoleculeComponent | ProteinComponent):
        return int(component.n_atoms)
    return 0


def _extent(solutes: list[Any]) -> tuple[float, float, float]:
    """The span of the solutes' coordinates on each axis, nm (with tleap's margin)."""
    points: list[tuple[float, float, float]] = []
    ball = 0.0
    for component in solutes:
        if isinstance(component, ProteinComponent):
            points.extend(_pdb_points(component.pdb.splitlines()))
        elif isinstance(component, SmallMoleculeComponent) and component.conformer:
            points.extend((x / 10, y / 10, z / 10) for x, y, z in component.conformer)
        elif isinstance(component, SmallMoleculeComponent):
            ball = max(ball, 2 * (component.n_atoms * NM3_PER_SOLUTE_ATOM * 3 / (4 * math.pi)) ** (1 / 3))
    if not points:
        return (ball + VDW_MARGIN_NM,) * 3
    spans = [max(p[i] for p in points) - min(p[i] for p in points) for i in range(3)]
    return (
        max(spans[0], ball) + VDW_MARGIN_NM,
        max(spans[1], ball) + VDW_MARGIN_NM,
        max(spans[2], ball) + VDW_MARGIN_NM,
    )


def _pdb_points(lines: Iterable[str]) -> list[tuple[float, float, float]]:
    """Atom coordinates of PDB records, nm."""
    return [
        (float(line[30:38]) / 10, float(line[38:46]) / 10, float(line[46:54]) / 10)
        for line in lines
        if line.startswith(("ATOM", "HETATM"))
    ]

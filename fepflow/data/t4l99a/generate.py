"""Write ``ligands.sdf`` of the T4 lysozyme L99A example again from its sources (see the package).

``python -m fepflow.data.t4l99a.generate [FOLDER]`` (default: the package's own folder). Benzene's
own geometry is FreeSolv's published one (``fepflow/data/freesolv_amber``), moved into the cavity by
:func:`~fepflow.data.t4l99a.posed_benzene`; toluene and p-xylene come from openmmtools' bound
p-xylene. ``protein.pdb`` is openmmtools' ``receptor.pdb``, copied as is.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from fepflow.chemistry.mol2 import parse_mol2
from fepflow.data import t4l99a
from fepflow.data.freesolv import published_parameters
from fepflow.models.components import SmallMoleculeComponent


def posed_ligands() -> list[SmallMoleculeComponent]:
    """Benzene, toluene and p-xylene in the cavity, in that order."""
    own = np.array([a.position for a in parse_mol2(published_parameters("benzene").mol2).atoms])
    return [t4l99a.posed_benzene(own), t4l99a.posed_toluene(), t4l99a.posed_xylene()]


def sdf_text(ligands: list[SmallMoleculeComponent]) -> str:
    """One SDF record per ligand, titled by its name."""
    return "".join(ligand.to_mol_block() + "$$$$\n" for ligand in ligands)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path(str(t4l99a.files()))
    (folder / "ligands.sdf").write_text(sdf_text(posed_ligands()))
    receptor = t4l99a._data() / "receptor.pdb"
    (folder / "protein.pdb").write_text(receptor.read_text())


if __name__ == "__main__":
    main()

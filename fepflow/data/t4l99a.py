"""T4 lysozyme L99A from openmmtools' package data, and benzene posed in its cavity.

The structure (``receptor.pdb``, hydrogens named for AMBER) and the bound p-xylene (``ligand.pdb``)
ship with openmmtools (``data/T4-lysozyme-L99A-implicit``). Benzene is posed on the xylene's ring,
with the hydrogen that a benzene -> toluene mapping leaves unmapped on a xylene methyl, so that
toluene's methyl grows into space the cavity has.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from fepflow.models.components import ProteinComponent, SmallMoleculeComponent

_XYLENE_RING = ("C1", "C2", "C5", "C7", "C6", "C3")  # in bond order; C1 carries methyl C4


def _data() -> Any:
    return resources.files("openmmtools") / "data" / "T4-lysozyme-L99A-implicit"


def protein() -> ProteinComponent:
    return ProteinComponent.from_pdb((_data() / "receptor.pdb").read_text(), "T4 lysozyme L99A")


def posed_benzene(coordinates_angstrom: np.ndarray) -> SmallMoleculeComponent:
    """Benzene with ``coordinates_angstrom`` (its own geometry, SMILES atom order) moved into the cavity."""
    from rdkit import Chem
    from rdkit.Chem import rdchem
    from rdkit.Geometry import Point3D

    from fepflow.hybrid.positions import superpose
    from fepflow.mapping import map_ligands

    plain = SmallMoleculeComponent.from_smiles("c1ccccc1", "benzene")
    mol = plain.to_rdkit()
    mapped = dict(map_ligands(plain, SmallMoleculeComponent.from_smiles("Cc1ccccc1", "toluene")).pairs)
    lost_h = next(a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 1 and a.GetIdx() not in mapped)
    start = mol.GetAtomWithIdx(lost_h).GetNeighbors()[0].GetIdx()
    ring = list(next(r for r in mol.GetRingInfo().AtomRings() if start in r))
    k = ring.index(start)
    ring = ring[k:] + ring[:k]
    lines = [line for line in (_data() / "ligand.pdb").read_text().splitlines() if line.startswith("ATOM")]
    atoms = {line[12:16].strip(): line for line in lines}
    target = np.array([[float(atoms[n][c : c + 8]) for c in (30, 38, 46)] for n in _XYLENE_RING])
    xyz = np.asarray(coordinates_angstrom, dtype=float)
    best = None
    for order in (ring, [ring[0], *reversed(ring[1:])]):
        rot, shift = superpose(xyz[order], target)
        rmsd = float(np.sqrt(np.mean(np.sum((xyz[order] @ rot.T + shift - target) ** 2, axis=1))))
        if best is None or rmsd < best[0]:
            best = (rmsd, rot, shift)
    assert best is not None
    placed = xyz @ best[1].T + best[2]
    conf = rdchem.Conformer(mol.GetNumAtoms())
    for i, (x, y, z) in enumerate(placed):
        conf.SetAtomPosition(i, Point3D(float(x), float(y), float(z)))
    conf.Set3D(True)
    mol.AddConformer(conf, assignId=True)
    return SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(mol), name="benzene")

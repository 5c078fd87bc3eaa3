"""T4 lysozyme L99A with benzene, toluene and p-xylene posed in its cavity: the example campaign.

The files next to this module are what a chemist would bring (``fepflow plan --protein protein.pdb
--ligands ligands.sdf --experimental experimental.csv``): ``protein.pdb`` is openmmtools' packaged
structure (``data/T4-lysozyme-L99A-implicit/receptor.pdb``, hydrogens named for AMBER), copied as is;
``ligands.sdf`` holds the three ligands posed in the cavity; ``experimental.csv`` their measured
binding free energies (sources in its comment lines and in ``fepflow/data/README.md``).

The poses: p-xylene is openmmtools' bound ``ligand.pdb``; toluene is that xylene with one methyl
(C8, on ring atom C7) replaced by a hydrogen along the C-C bond; benzene (:func:`posed_benzene`) is
superposed on the xylene's ring, with the hydrogen that a benzene -> toluene mapping leaves unmapped
on the ring atom that carries toluene's methyl, so that the methyl grows into space the cavity has.
``python -m fepflow.data.t4l99a.generate`` writes ``ligands.sdf`` again from these.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from fepflow.models.components import ProteinComponent, SmallMoleculeComponent

_XYLENE_RING = ("C1", "C2", "C5", "C7", "C6", "C3")  # in bond order; C1 carries methyl C4


LIGANDS = ("benzene", "toluene", "p-xylene")
_C_H_ANGSTROM = 1.09


def _data() -> Any:
    return resources.files("openmmtools") / "data" / "T4-lysozyme-L99A-implicit"


def files() -> Any:
    """The folder of the example's files (``protein.pdb``, ``ligands.sdf``, ``experimental.csv``)."""
    return resources.files(__name__)


def protein_pdb() -> str:
    return str((files() / "protein.pdb").read_text())


def ligands_sdf() -> str:
    return str((files() / "ligands.sdf").read_text())


def experimental_csv() -> str:
    return str((files() / "experimental.csv").read_text())


def protein() -> ProteinComponent:
    """The structure as shipped (AMBER hydrogens already placed: tleap reads it as it is)."""
    return ProteinComponent.from_pdb(protein_pdb(), "T4 lysozyme L99A")


def ligands() -> list[SmallMoleculeComponent]:
    """Benzene, toluene and p-xylene in their cavity poses (from ``ligands.sdf``)."""
    return SmallMoleculeComponent.from_sdf(ligands_sdf())


def _xylene_rdkit() -> Any:
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.MolFromPDBBlock((_data() / "ligand.pdb").read_text(), removeHs=False)
    return AllChem.AssignBondOrdersFromTemplate(Chem.MolFromSmiles("Cc1ccc(C)cc1"), mol)


def posed_xylene() -> SmallMoleculeComponent:
    """p-Xylene as openmmtools' packaged complex has it bound."""
    from rdkit import Chem

    return SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(_xylene_rdkit()), name="p-xylene")


def posed_toluene() -> SmallMoleculeComponent:
    """The bound p-xylene with its methyl C8 made a hydrogen (1.09 Å from C7, along the C7-C8 bond)."""
    from rdkit import Chem
    from rdkit.Geometry import Point3D

    mol = Chem.RWMol(_xylene_rdkit())
    named = {a.GetPDBResidueInfo().GetName().strip(): a.GetIdx() for a in mol.GetAtoms()}
    c7, c8 = named["C7"], named["C8"]
    conf = mol.GetConformer()
    start, end = np.array(conf.GetAtomPosition(c7)), np.array(conf.GetAtomPosition(c8))
    place = start + _C_H_ANGSTROM * (end - start) / np.linalg.norm(end - start)
    methyl_h = [n.GetIdx() for n in mol.GetAtomWithIdx(c8).GetNeighbors() if n.GetAtomicNum() == 1]
    mol.GetAtomWithIdx(c8).SetAtomicNum(1)
    conf.SetAtomPosition(c8, Point3D(*(float(v) for v in place)))
    for idx in sorted(methyl_h, reverse=True):
        mol.RemoveAtom(idx)
    out = mol.GetMol()
    Chem.SanitizeMol(out)
    return SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(out), name="toluene")


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

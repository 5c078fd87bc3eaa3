"""Matching a parameter file's atoms to a component's atom order by element and connectivity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fepflow.models.components import SmallMoleculeComponent


def _bare_graph(atomic_numbers: Sequence[int], bonds: Sequence[tuple[int, int]]) -> Any:
    """An unsanitised RDKit molecule: elements and single bonds only (no charges, orders or H counts)."""
    from rdkit import Chem

    mol = Chem.RWMol()
    for z in atomic_numbers:
        atom = Chem.Atom(int(z))
        atom.SetNoImplicit(True)
        mol.AddAtom(atom)
    for i, j in bonds:
        mol.AddBond(int(i), int(j), Chem.BondType.SINGLE)
    out = mol.GetMol()
    out.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(out)
    return out


def component_order(
    molecule: SmallMoleculeComponent, atomic_numbers: Sequence[int], bonds: Sequence[tuple[int, int]]
) -> list[int]:
    """For each atom of ``molecule`` (SMILES order), the index of the same atom in a parameter file.

    Parameters
    ----------
    molecule : SmallMoleculeComponent
        The component whose atom order is wanted.
    atomic_numbers : sequence of int
        The file's elements, in the file's order.
    bonds : sequence of (int, int)
        The file's bonds (0-based).

    Returns
    -------
    list of int
        ``order[i]`` is the file index of the component's atom ``i`` (one of the matches when the
        molecule is symmetric: symmetric atoms are interchangeable).

    Raises
    ------
    ValueError
        The file's graph (elements and connectivity) is not the molecule's.
    """
    mol = molecule.to_rdkit()
    comp = _bare_graph(
        [a.GetAtomicNum() for a in mol.GetAtoms()],
        [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()],
    )
    other = _bare_graph(atomic_numbers, bonds)
    if comp.GetNumAtoms() != other.GetNumAtoms() or comp.GetNumBonds() != other.GetNumBonds():
        raise ValueError(
            f"{molecule.name}: {comp.GetNumAtoms()} atoms / {comp.GetNumBonds()} bonds, the parameter "
            f"file has {other.GetNumAtoms()} / {other.GetNumBonds()}"
        )
    match = other.GetSubstructMatch(comp, useChirality=False)
    if len(match) != comp.GetNumAtoms():
        raise ValueError(f"{molecule.name}: the parameter file's atoms and bonds are another molecule")
    return [int(i) for i in match]

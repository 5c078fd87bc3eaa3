"""Tetrahedral stereocentres that a mapping would invert.

RDKit stores a centre's handedness as a chiral tag (clockwise or anticlockwise) relative to the
order of the atom's bonds. A mapped pair of tagged centres keeps its handedness when

    (tag in A == tag in B)  ==  (A's neighbour order, carried through the mapping, is an even
                                 permutation of B's neighbour order)

A neighbour left unmapped on each side is treated as the same placeholder (the group that grows in
place of the one removed); with two or more neighbours unmapped the handedness is undetermined and
the centre is not reported.
"""

from __future__ import annotations

from typing import Any

_PLACEHOLDER = -1


def _tag(atom: Any) -> int | None:
    from rdkit.Chem import ChiralType

    tag = atom.GetChiralTag()
    if tag == ChiralType.CHI_TETRAHEDRAL_CW:
        return 1
    if tag == ChiralType.CHI_TETRAHEDRAL_CCW:
        return -1
    return None


def _neighbours(atom: Any) -> list[int]:
    index = atom.GetIdx()
    return [bond.GetOtherAtomIdx(index) for bond in atom.GetBonds()]


def permutation_parity(sequence: list[int], reference: list[int]) -> int:
    """+1 when ``sequence`` is an even permutation of ``reference``, -1 when odd."""
    if sorted(sequence) != sorted(reference) or len(set(reference)) != len(reference):
        raise ValueError(f"{sequence} is not a permutation of {reference}")
    position = [reference.index(x) for x in sequence]
    inversions = sum(
        1 for i in range(len(position)) for j in range(i + 1, len(position)) if position[i] > position[j]
    )
    return 1 if inversions % 2 == 0 else -1


def inverted_centres(mol_a: Any, mol_b: Any, pairs: dict[int, int]) -> list[int]:
    """Indices (in A) of mapped tetrahedral stereocentres whose handedness the mapping inverts."""
    out = []
    for a, b in sorted(pairs.items()):
        atom_a, atom_b = mol_a.GetAtomWithIdx(a), mol_b.GetAtomWithIdx(b)
        tag_a, tag_b = _tag(atom_a), _tag(atom_b)
        if tag_a is None or tag_b is None:
            continue
        nbrs_a, nbrs_b = _neighbours(atom_a), _neighbours(atom_b)
        if len(nbrs_a) != len(nbrs_b):
            continue
        carried = [pairs.get(n, _PLACEHOLDER) for n in nbrs_a]
        carried = [x if x in nbrs_b else _PLACEHOLDER for x in carried]
        ref = [n if n in carried else _PLACEHOLDER for n in nbrs_b]
        if carried.count(_PLACEHOLDER) > 1 or ref.count(_PLACEHOLDER) != carried.count(_PLACEHOLDER):
            continue
        parity = permutation_parity(carried, ref)
        same_hand = (tag_a == tag_b) == (parity == 1)
        if not same_hand:
            out.append(a)
    return out

"""Atom mapping: MCS rules (elements, whole rings, stereo), hydrogens, scores, errors and drawings."""

from __future__ import annotations

import math

import pytest
from rdkit import Chem

from fepflow.mapping import MappingError, MappingOptions, draw_mapping, lomap_like_score, map_ligands
from fepflow.mapping.stereo import inverted_centres, permutation_parity
from fepflow.models import AtomMapping, SmallMoleculeComponent


def mol(smiles: str, name: str | None = None) -> SmallMoleculeComponent:
    return SmallMoleculeComponent.from_smiles(smiles, name or smiles)


def symbols(m: SmallMoleculeComponent) -> list[str]:
    return [a.GetSymbol() for a in m.to_rdkit().GetAtoms()]


def heavy_mapped(m: SmallMoleculeComponent, mapping: AtomMapping) -> int:
    s = symbols(m)
    return sum(1 for a, _ in mapping.pairs if s[a] != "H")


def assert_elements_match(a: SmallMoleculeComponent, b: SmallMoleculeComponent, mapping: AtomMapping) -> None:
    sa, sb = symbols(a), symbols(b)
    assert all(sa[i] == sb[j] for i, j in mapping.pairs)


def assert_bonds_preserved(
    a: SmallMoleculeComponent, b: SmallMoleculeComponent, mapping: AtomMapping
) -> None:
    """Two mapped atoms bonded in A are bonded in B (and the other way round)."""
    ma, mb = a.to_rdkit(), b.to_rdkit()
    pairs = dict(mapping.pairs)
    for i in pairs:
        for j in pairs:
            if i < j:
                bonded_a = ma.GetBondBetweenAtoms(i, j) is not None
                bonded_b = mb.GetBondBetweenAtoms(pairs[i], pairs[j]) is not None
                assert bonded_a == bonded_b


@pytest.mark.parametrize(
    ("smiles_a", "smiles_b", "n_heavy", "n_pairs"),
    [
        ("CC", "CO", 1, 4),  # C and its three H
        ("Cc1ccccc1", "Oc1ccccc1", 6, 11),  # the ring and its five H
        ("c1ccccc1", "Cc1ccccc1", 6, 11),  # the ring; the H replaced by methyl stays unmapped
        ("c1ccccc1", "c1ccc2ccccc2c1", 6, 10),
        ("CCO", "CCO", 3, 9),
    ],
)
def test_known_pairs(smiles_a: str, smiles_b: str, n_heavy: int, n_pairs: int) -> None:
    a, b = mol(smiles_a), mol(smiles_b)
    mapping = map_ligands(a, b)
    assert heavy_mapped(a, mapping) == n_heavy
    assert len(mapping.pairs) == n_pairs
    assert_elements_match(a, b, mapping)
    assert_bonds_preserved(a, b, mapping)
    n_a = sum(1 for s in symbols(a) if s != "H")
    n_b = sum(1 for s in symbols(b) if s != "H")
    assert mapping.score == pytest.approx(math.exp(-0.1 * (n_a + n_b - 2 * n_heavy)), abs=1e-6)


def test_identical_molecules_map_fully_with_score_one() -> None:
    a = mol("Cc1ccncc1C")
    mapping = map_ligands(a, a)
    assert len(mapping.pairs) == a.n_atoms
    assert mapping.score == 1.0


def test_labels_and_transformation_storage() -> None:
    mapping = map_ligands(mol("CC"), mol("CO"), component_a="lig", component_b="lig")
    assert (mapping.component_a, mapping.component_b) == ("lig", "lig")


def test_rings_are_never_broken_or_mapped_to_chains() -> None:
    # cyclohexane and cyclopentane share five ring carbons, but mapping them would open a ring
    with pytest.raises(MappingError, match="no sensible mapping"):
        map_ligands(mol("C1CCCCC1"), mol("C1CCCC1"))
    # ring carbon must not map onto a chain carbon
    with pytest.raises(MappingError, match="whole"):
        map_ligands(mol("C1CCCCC1"), mol("CCCCCC"))
    # aromatic bonds map only to aromatic bonds
    with pytest.raises(MappingError):
        map_ligands(mol("c1ccccc1"), mol("C1CCCCC1"))


def test_partial_ring_overlap_maps_whole_rings_only() -> None:
    # methylcyclohexane -> methylcyclopentane: only the methyl (a chain atom) may map
    a, b = mol("CC1CCCCC1"), mol("CC1CCCC1")
    mapping = map_ligands(a, b)
    rdkit_a = a.to_rdkit()
    assert all(not rdkit_a.GetAtomWithIdx(i).IsInRing() for i, _ in mapping.pairs)
    assert heavy_mapped(a, mapping) == 1


def test_different_net_charges_are_refused() -> None:
    with pytest.raises(MappingError, match="only charge-conserving transformations are supported"):
        map_ligands(mol("CC(=O)[O-]"), mol("CC(=O)O"))


def test_no_common_core_is_refused() -> None:
    with pytest.raises(MappingError, match="no sensible mapping"):
        map_ligands(mol("c1ccccc1"), mol("CO"))


def test_minimum_core_and_score_options() -> None:
    with pytest.raises(MappingError, match="at least 2 needed"):
        map_ligands(mol("CC"), mol("CO"), options=MappingOptions(min_mapped_heavy_atoms=2))
    with pytest.raises(MappingError, match="below the minimum"):
        map_ligands(mol("c1ccccc1"), mol("c1ccc2ccccc2c1"), options=MappingOptions(min_score=0.8))


def test_stereocentre_of_enantiomers_is_not_mapped() -> None:
    a, b = mol("C[C@H](F)Cl"), mol("C[C@@H](F)Cl")
    mapping = map_ligands(a, b)
    centre_a = next(
        i
        for i, s in enumerate(symbols(a))
        if s == "C"
        and a.to_rdkit().GetAtomWithIdx(i).GetDegree() == 4
        and a.to_rdkit().GetAtomWithIdx(i).GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED
    )
    assert centre_a not in dict(mapping.pairs)
    assert inverted_centres(a.to_rdkit(), b.to_rdkit(), dict(mapping.pairs)) == []
    # the centre's own H goes with it; the methyl, F and Cl stay mapped
    assert heavy_mapped(a, mapping) == 3


def test_same_handedness_keeps_the_centre() -> None:
    a, b = mol("C[C@H](F)Cl"), mol("C[C@H](F)Br")
    mapping = map_ligands(a, b)
    assert heavy_mapped(a, mapping) == 3  # C, C*, F
    assert inverted_centres(a.to_rdkit(), b.to_rdkit(), dict(mapping.pairs)) == []


def test_inverted_centre_detected_for_a_swapped_mapping() -> None:
    a = mol("C[C@H](F)Cl")
    ra = a.to_rdkit()
    identity = {i: i for i in range(ra.GetNumAtoms())}
    assert inverted_centres(ra, ra, identity) == []
    centre = next(at.GetIdx() for at in ra.GetAtoms() if at.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED)
    f = next(at.GetIdx() for at in ra.GetAtoms() if at.GetSymbol() == "F")
    cl = next(at.GetIdx() for at in ra.GetAtoms() if at.GetSymbol() == "Cl")
    swapped = dict(identity)
    swapped[f], swapped[cl] = cl, f
    assert inverted_centres(ra, ra, swapped) == [centre]


def test_permutation_parity() -> None:
    assert permutation_parity([1, 2, 3], [1, 2, 3]) == 1
    assert permutation_parity([2, 1, 3], [1, 2, 3]) == -1
    assert permutation_parity([2, 3, 1], [1, 2, 3]) == 1
    with pytest.raises(ValueError):
        permutation_parity([1, 2], [1, 3])


def test_score_formula() -> None:
    assert lomap_like_score(7, 7, 6) == pytest.approx(math.exp(-0.2))
    assert lomap_like_score(5, 5, 5) == 1.0
    with pytest.raises(ValueError):
        lomap_like_score(2, 3, 4)


def test_svg_drawing_highlights_both_molecules() -> None:
    a, b = mol("Cc1ccccc1", "toluene"), mol("Oc1ccccc1", "phenol")
    mapping = map_ligands(a, b)
    svg = draw_mapping(a, b, mapping)
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert "toluene (A)" in svg and "6 heavy atoms mapped" in svg
    assert "#8CD88C" in svg.upper()  # core colour
    with pytest.raises(ValueError, match="out of range"):
        draw_mapping(a, b, AtomMapping(component_a="ligand", component_b="ligand", pairs=((99, 0),)))

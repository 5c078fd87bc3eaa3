"""Maximum common substructure mappings between two ligands (RDKit rdFMCS).

Rules, in the order they are applied:

1. **Charge**: both ligands must have the same net charge. Charge-changing transformations need a
   co-alchemical ion or a finite-size correction; only charge-conserving ones are supported.
2. **Heavy-atom MCS** with elements matched (``CompareElements``), bond orders matched
   (``CompareOrderExact``: aromatic matches only aromatic), a ring atom matching only a ring atom
   (``ringMatchesRingOnly``) and rings matched whole or not at all (``completeRingsOnly``): no mapping
   breaks or opens a ring, or grows one ring into another.
3. **Every placement** of the MCS in both molecules is tried (symmetric molecules have several); the
   one kept maps the most hydrogens, then inverts no stereocentre, then (with conformers for both)
   has the smallest RMSD of mapped heavy atoms after superposition, then the smallest indices.
4. **Hydrogens** attached to a mapped heavy-atom pair are mapped to each other, as many as both
   atoms carry (H maps only to H).
5. **Stereo**: a mapped pair of tetrahedral stereocentres whose neighbours, through the mapping,
   give opposite handedness inverts the centre. If every placement inverts one, the offending
   centres are unmapped (with their hydrogens): the hybrid then grows one centre and removes the other.

The score is :func:`~fepflow.mapping.scoring.lomap_like_score`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from fepflow.mapping.errors import MappingError
from fepflow.mapping.scoring import DEFAULT_BETA, lomap_like_score
from fepflow.mapping.stereo import inverted_centres
from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.transformations import AtomMapping

logger = logging.getLogger(__name__)

_ORIGINAL = "fepflow_index"


@dataclass(frozen=True)
class MappingOptions:
    """How :func:`map_ligands` searches.

    Attributes
    ----------
    timeout_s : int
        Limit of the MCS search (RDKit stops and returns the best found so far; logged).
    min_mapped_heavy_atoms : int
        Fewer mapped heavy atoms than this is "no sensible mapping".
    min_score : float
        A lower score is "no sensible mapping" too (0 accepts any).
    max_matches : int
        Placements of the MCS tried per molecule.
    beta : float
        Decay of the score per unmapped heavy atom.
    """

    timeout_s: int = 10
    min_mapped_heavy_atoms: int = 1
    min_score: float = 0.0
    max_matches: int = 1000
    beta: float = DEFAULT_BETA


def _rdkit_mol(molecule: SmallMoleculeComponent) -> Any:
    mol = molecule.to_rdkit()
    for atom in mol.GetAtoms():
        atom.SetIntProp(_ORIGINAL, atom.GetIdx())
    return mol


def _heavy(mol: Any) -> Any:
    from rdkit import Chem

    params: Any = Chem.RemoveHsParameters()
    params.removeDefiningBondStereo = False
    params.removeWithWedgedBond = True
    heavy = Chem.RemoveHs(mol, params, sanitize=False)
    heavy.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(heavy)
    return heavy


def _n_heavy(mol: Any) -> int:
    return sum(1 for atom in mol.GetAtoms() if atom.GetAtomicNum() > 1)


def _hydrogens(mol: Any, index: int) -> list[int]:
    return sorted(n.GetIdx() for n in mol.GetAtomWithIdx(index).GetNeighbors() if n.GetAtomicNum() == 1)


def add_hydrogens(mol_a: Any, mol_b: Any, heavy_pairs: dict[int, int]) -> dict[int, int]:
    """``heavy_pairs`` plus the hydrogens of each mapped pair, matched in index order."""
    pairs = dict(heavy_pairs)
    for a, b in heavy_pairs.items():
        for ha, hb in zip(_hydrogens(mol_a, a), _hydrogens(mol_b, b), strict=False):
            pairs[ha] = hb
    return pairs


def _drop_inverted(mol_a: Any, mol_b: Any, pairs: dict[int, int]) -> dict[int, int]:
    bad = inverted_centres(mol_a, mol_b, pairs)
    if not bad:
        return pairs
    drop = set(bad)
    for a in bad:
        drop.update(h for h in _hydrogens(mol_a, a) if h in pairs)
    logger.info("unmapping inverted stereocentre(s) %s of state A", sorted(bad))
    return {a: b for a, b in pairs.items() if a not in drop}


def _whole_rings(mol_a: Any, mol_b: Any, heavy_pairs: dict[int, int]) -> dict[int, int]:
    """Drop mapped ring atoms that lie in no fully mapped ring (of A, and through the mapping, of B).

    RDKit's ``CompleteRingsOnly`` concerns ring *bonds*: a lone ring atom next to a mapped chain
    (the ring carbon of methylcyclohexane -> methylcyclopentane) would otherwise stay mapped.
    """
    pairs = dict(heavy_pairs)
    while True:
        reverse = {b: a for a, b in pairs.items()}
        bad = set()
        for mol, mapped in ((mol_a, set(pairs)), (mol_b, set(reverse))):
            rings = [set(r) for r in mol.GetRingInfo().AtomRings()]
            for i in mapped:
                mine = [r for r in rings if i in r]
                if mine and not any(r <= mapped for r in mine):
                    bad.add(i if mol is mol_a else reverse[i])
        if not bad:
            return pairs
        pairs = {a: b for a, b in pairs.items() if a not in bad}


def _rmsd(mol_a: Any, mol_b: Any, heavy_pairs: dict[int, int]) -> float:
    if mol_a.GetNumConformers() == 0 or mol_b.GetNumConformers() == 0 or len(heavy_pairs) < 3:
        return 0.0
    ia, ib = zip(*sorted(heavy_pairs.items()), strict=True)
    pa = mol_a.GetConformer().GetPositions()[list(ia)]
    pb = mol_b.GetConformer().GetPositions()[list(ib)]
    pa = pa - pa.mean(axis=0)
    pb = pb - pb.mean(axis=0)
    u, s, vt = np.linalg.svd(pa.T @ pb)
    d = np.sign(np.linalg.det(u @ vt))
    s[-1] *= d
    msd = max(0.0, (np.sum(pa**2) + np.sum(pb**2) - 2.0 * np.sum(s)) / len(ia))
    return float(np.sqrt(msd))


def _find_mcs(heavy_a: Any, heavy_b: Any, options: MappingOptions) -> Any:
    from rdkit.Chem import rdFMCS

    params: Any = rdFMCS.MCSParameters()
    params.AtomTyper = rdFMCS.AtomCompare.CompareElements
    params.BondTyper = rdFMCS.BondCompare.CompareOrderExact
    params.BondCompareParameters.RingMatchesRingOnly = True
    params.BondCompareParameters.CompleteRingsOnly = True
    params.AtomCompareParameters.RingMatchesRingOnly = True
    params.AtomCompareParameters.CompleteRingsOnly = True
    params.AtomCompareParameters.MatchChiralTag = False
    params.Timeout = int(options.timeout_s)
    return rdFMCS.FindMCS([heavy_a, heavy_b], params)


def _check_charges(ligand_a: SmallMoleculeComponent, ligand_b: SmallMoleculeComponent) -> None:
    qa, qb = ligand_a.formal_charge, ligand_b.formal_charge
    if qa != qb:
        raise MappingError(
            f"{ligand_a.name!r} has net charge {qa:+d} and {ligand_b.name!r} {qb:+d}: only "
            "charge-conserving transformations are supported (a charge change needs an alchemical "
            "counter-ion or a finite-size correction, which fepflow does not apply)"
        )


def _best_pairs(
    mol_a: Any, mol_b: Any, heavy_a: Any, heavy_b: Any, matches_a: list[Any], matches_b: list[Any]
) -> dict[int, int]:
    """Of every pair of core matches (whole rings, hydrogens added): the fewest inverted
    stereocentres, then the most atoms, then the smallest heavy-atom RMSD, then the pairs themselves."""

    def original(heavy: Any, i: int) -> int:
        return int(heavy.GetAtomWithIdx(i).GetIntProp(_ORIGINAL))

    best: tuple[Any, ...] | None = None
    for ma in matches_a:
        for mb in matches_b:
            heavy_pairs = {original(heavy_a, i): original(heavy_b, j) for i, j in zip(ma, mb, strict=True)}
            heavy_pairs = _whole_rings(mol_a, mol_b, heavy_pairs)
            pairs = add_hydrogens(mol_a, mol_b, heavy_pairs)
            n_inverted = len(inverted_centres(mol_a, mol_b, pairs))
            rank = (
                n_inverted,
                -len(pairs),
                round(_rmsd(mol_a, mol_b, heavy_pairs), 3),
                sorted(pairs.items()),
            )
            if best is None or rank < best[0]:
                best = (rank, pairs)
    assert best is not None
    return dict(best[1])


def map_ligands(
    ligand_a: SmallMoleculeComponent,
    ligand_b: SmallMoleculeComponent,
    *,
    component_a: str = "ligand",
    component_b: str = "ligand",
    options: MappingOptions | None = None,
) -> AtomMapping:
    """The best atom mapping of ``ligand_a`` onto ``ligand_b`` (see the module's rules).

    Parameters
    ----------
    ligand_a, ligand_b : SmallMoleculeComponent
        The two ligands; indices refer to their SMILES atom order, hydrogens included.
    component_a, component_b : str
        The ligands' component labels in the transformation's states.
    options : MappingOptions, optional
        Search settings.

    Returns
    -------
    AtomMapping
        Pairs ``(index in A, index in B)`` and the score.

    Raises
    ------
    MappingError
        Different net charges, or no mapping with at least ``min_mapped_heavy_atoms`` heavy atoms
        and ``min_score``.
    """
    from rdkit import Chem

    opts = options or MappingOptions()
    _check_charges(ligand_a, ligand_b)
    mol_a, mol_b = _rdkit_mol(ligand_a), _rdkit_mol(ligand_b)
    heavy_a, heavy_b = _heavy(mol_a), _heavy(mol_b)
    result = _find_mcs(heavy_a, heavy_b, opts)
    if result.canceled:
        logger.warning(
            "MCS search for %s -> %s stopped at its %d s limit; using the best found",
            ligand_a.name,
            ligand_b.name,
            opts.timeout_s,
        )
    n_core = int(result.numAtoms)
    if n_core < max(1, opts.min_mapped_heavy_atoms):
        raise MappingError(
            f"no sensible mapping between {ligand_a.name!r} ({ligand_a.smiles}) and {ligand_b.name!r} "
            f"({ligand_b.smiles}): the largest common substructure with matching elements and whole "
            f"rings has {n_core} heavy atom(s); at least {max(1, opts.min_mapped_heavy_atoms)} needed"
        )
    query = Chem.MolFromSmarts(result.smartsString)
    matches_a = list(
        islice(
            heavy_a.GetSubstructMatches(query, uniquify=True, maxMatches=opts.max_matches), opts.max_matches
        )
    )
    matches_b = list(heavy_b.GetSubstructMatches(query, uniquify=False, maxMatches=opts.max_matches))
    if not matches_a or not matches_b:
        raise MappingError(f"MCS of {ligand_a.name!r} and {ligand_b.name!r} does not match back (RDKit)")
    pairs = _drop_inverted(mol_a, mol_b, _best_pairs(mol_a, mol_b, heavy_a, heavy_b, matches_a, matches_b))
    n_mapped_heavy = sum(1 for a in pairs if mol_a.GetAtomWithIdx(a).GetAtomicNum() > 1)
    if n_mapped_heavy < max(1, opts.min_mapped_heavy_atoms):
        raise MappingError(
            f"no sensible mapping between {ligand_a.name!r} ({ligand_a.smiles}) and {ligand_b.name!r} "
            f"({ligand_b.smiles}): after keeping only whole rings and unmapping inverted stereocentres "
            f"{n_mapped_heavy} heavy atom(s) remain mapped; at least {max(1, opts.min_mapped_heavy_atoms)} needed"
        )
    score = lomap_like_score(_n_heavy(mol_a), _n_heavy(mol_b), n_mapped_heavy, beta=opts.beta)
    if score < opts.min_score:
        raise MappingError(
            f"no sensible mapping between {ligand_a.name!r} and {ligand_b.name!r}: best score "
            f"{score:.3f} ({n_mapped_heavy} heavy atoms mapped) is below the minimum {opts.min_score}"
        )
    return AtomMapping(
        component_a=component_a,
        component_b=component_b,
        pairs=tuple(sorted((int(a), int(b)) for a, b in pairs.items())),
        score=round(score, 6),
    )

"""Positions of the hybrid: system A's, plus ligand B's unique atoms placed on A's core.

B's conformer is superposed onto A's core atoms (Kabsch, on every mapped atom), and the unique-B
atoms take their superposed coordinates: they sit where B's groups would be, bonded to A's core.

Hydrogens are matched by geometry for the superposition. A mapping pairs the hydrogens of a mapped
atom in index order, and the two conformers may label them in opposite senses: three hydrogens of a
methyl paired by an odd permutation can be fitted by no proper rotation, and the best one turns the
methyl upside down, putting B's unique group on the side opposite to A's (measured: ethane ->
methanol with the hydroxyl opposite the dummy methyl, a trigonal-bipyramidal carbon with H-C-O
angles of 91° that never relaxes, 0.4 kcal/mol off in the hydration free energy of its methanol end
state). Before fitting, the hydrogens on each mapped atom are re-paired, among themselves, in the way
that fits best; only the placement of the unique atoms uses this pairing (the core keeps A's
coordinates, and hydrogens on one atom are interchangeable in the end states' energies).
"""

from __future__ import annotations

import logging
from itertools import permutations

import numpy as np

from fepflow.hybrid.atoms import HybridAtoms

logger = logging.getLogger(__name__)

HYDROGEN_BOND_MAX_NM = 0.1145
"""An atom with exactly one neighbour closer than this is taken for a hydrogen (X-H bonds are
0.096-0.110 nm, up to 0.112 in unrelaxed ETKDG conformers; the shortest bond between heavy atoms,
C≡N, is 0.1157)."""
MAX_SWEEPS = 5


def superpose(mobile: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation ``R`` and translation ``t`` minimising ``|mobile @ R.T + t - target|`` (proper rotation)."""
    mc, tc = mobile.mean(axis=0), target.mean(axis=0)
    if len(mobile) < 3:
        return np.eye(3), tc - mc
    h = (mobile - mc).T @ (target - tc)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rot, tc - mc @ rot.T


def _rmsd(mobile: np.ndarray, target: np.ndarray) -> float:
    rot, shift = superpose(mobile, target)
    return float(np.sqrt(np.mean(np.sum((mobile @ rot.T + shift - target) ** 2, axis=1))))


def hydrogen_groups(positions_nm: np.ndarray, atoms: list[int]) -> list[list[int]]:
    """``atoms`` that are hydrogens (by geometry: one neighbour within :data:`HYDROGEN_BOND_MAX_NM`),
    grouped by that neighbour; groups of two or more only."""
    x = np.asarray(positions_nm, dtype=float)
    distances = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    groups: dict[int, list[int]] = {}
    for j in atoms:
        near = np.flatnonzero(distances[j] < HYDROGEN_BOND_MAX_NM)
        if len(near) == 1:
            groups.setdefault(int(near[0]), []).append(j)
    return [sorted(g) for _, g in sorted(groups.items()) if len(g) > 1]


def fitted_pairing(pos_b: np.ndarray, pos_a: np.ndarray, a_of_b: dict[int, int]) -> dict[int, int]:
    """``a_of_b`` with the hydrogens on each mapped atom re-paired among themselves to fit best.

    Coordinate descent over the groups (every permutation of one group's partners, the others
    held), until a sweep improves nothing; starts from ``a_of_b``, so a pairing that already fits
    is kept."""
    pairing = dict(a_of_b)
    core_b = sorted(pairing)
    groups = hydrogen_groups(pos_b, core_b)

    def rmsd(p: dict[int, int]) -> float:
        return _rmsd(pos_b[core_b], pos_a[[p[j] for j in core_b]])

    best = rmsd(pairing)
    for _ in range(MAX_SWEEPS):
        improved = False
        for group in groups:
            partners = [pairing[j] for j in group]
            for order in permutations(partners):
                trial = dict(pairing)
                trial.update(zip(group, order, strict=True))
                value = rmsd(trial)
                if value < best - 1e-6:
                    best, pairing, improved = value, trial, True
        if not improved:
            break
    if pairing != a_of_b:
        logger.info(
            "placing B's unique atoms: hydrogens of B %s re-paired by geometry (core RMSD %.3f nm)",
            sorted(j for j in pairing if pairing[j] != a_of_b[j]),
            best,
        )
    return pairing


def hybrid_positions(positions_a_nm: np.ndarray, ligand_b_nm: np.ndarray, atoms: HybridAtoms) -> np.ndarray:
    """``(n_hybrid, 3)`` positions in nm from system A's positions and ligand B's own conformer."""
    pos_a = np.asarray(positions_a_nm, dtype=float)
    pos_b = np.asarray(ligand_b_nm, dtype=float)
    if pos_a.shape != (atoms.n_a, 3) or pos_b.shape != (atoms.n_ligand_b, 3):
        raise ValueError(
            f"positions of shape {pos_a.shape} and {pos_b.shape}; expected ({atoms.n_a}, 3) and ({atoms.n_ligand_b}, 3)"
        )
    pairing = fitted_pairing(pos_b, pos_a, atoms.a_of_b) if atoms.unique_b else atoms.a_of_b
    core_b = sorted(pairing)
    rot, shift = superpose(pos_b[core_b], pos_a[[pairing[j] for j in core_b]])
    placed = pos_b @ rot.T + shift
    out = np.zeros((atoms.n_hybrid, 3))
    out[: atoms.n_a] = pos_a
    for j in range(atoms.n_ligand_b):
        h = atoms.hybrid_of_b[j]
        if h >= atoms.n_a:
            out[h] = placed[j]
    return out

"""Positions of the hybrid: system A's, plus ligand B's unique atoms placed on A's core.

B's conformer is superposed onto A's core atoms (Kabsch, on every mapped atom), and the unique-B
atoms take their superposed coordinates: they sit where B's groups would be, bonded to A's core.
"""

from __future__ import annotations

import numpy as np

from fepflow.hybrid.atoms import HybridAtoms


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


def hybrid_positions(positions_a_nm: np.ndarray, ligand_b_nm: np.ndarray, atoms: HybridAtoms) -> np.ndarray:
    """``(n_hybrid, 3)`` positions in nm from system A's positions and ligand B's own conformer."""
    pos_a = np.asarray(positions_a_nm, dtype=float)
    pos_b = np.asarray(ligand_b_nm, dtype=float)
    if pos_a.shape != (atoms.n_a, 3) or pos_b.shape != (atoms.n_ligand_b, 3):
        raise ValueError(
            f"positions of shape {pos_a.shape} and {pos_b.shape}; expected ({atoms.n_a}, 3) and ({atoms.n_ligand_b}, 3)"
        )
    core_b = sorted(atoms.a_of_b)
    rot, shift = superpose(pos_b[core_b], pos_a[[atoms.a_of_b[j] for j in core_b]])
    placed = pos_b @ rot.T + shift
    out = np.zeros((atoms.n_hybrid, 3))
    out[: atoms.n_a] = pos_a
    for j in range(atoms.n_ligand_b):
        h = atoms.hybrid_of_b[j]
        if h >= atoms.n_a:
            out[h] = placed[j]
    return out

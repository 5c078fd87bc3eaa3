"""Choosing Boresch anchors from an equilibrium run: steady, non-collinear, within reach."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fepflow.restraints import RestraintError, boresch_coordinates
from fepflow.restraints.selection import LigandAtoms, SelectionBounds, choose_restraint

RNG = np.random.default_rng(11)
HEXAGON = np.array([[0.14 * math.cos(a), 0.14 * math.sin(a), 0.0] for a in np.arange(6) * math.pi / 3])
BENZENE = LigandAtoms(
    indices=list(range(100, 106)), names=[f"C{i + 1}" for i in range(6)], heavy=[True] * 6, in_ring=[True] * 6
)


def _frames(mean: np.ndarray, noise: np.ndarray, n: int = 40) -> np.ndarray:
    return mean[None] + RNG.normal(size=(n, *mean.shape)) * noise[None, :, None]


def _receptor() -> tuple[np.ndarray, np.ndarray]:
    """Twelve 'Cα' atoms on a shell 0.6-1.0 nm from the ligand; the first six steady, the rest floppy."""
    directions = RNG.normal(size=(12, 3))
    directions /= np.linalg.norm(directions, axis=1)[:, None]
    mean = directions * RNG.uniform(0.6, 1.0, size=(12, 1))
    noise = np.array([0.01] * 6 + [0.08] * 6)
    return mean, noise


def test_chosen_restraint_is_steady_non_collinear_and_fits_the_run() -> None:
    mean, noise = _receptor()
    receptor = _frames(mean, noise)
    ligand = _frames(HEXAGON, np.full(6, 0.005))
    labels = [f"RES {i} CA" for i in range(12)]
    geometry = choose_restraint(receptor, ligand, list(range(12)), labels, BENZENE, SelectionBounds(), 300.0)
    assert set(geometry.receptor_atoms) <= set(range(6))  # the steady ones
    assert set(geometry.ligand_atoms) <= set(BENZENE.indices)
    positions = np.concatenate(
        [receptor[:, list(geometry.receptor_atoms)], ligand[:, [a - 100 for a in geometry.ligand_atoms]]],
        axis=1,
    )
    coords = boresch_coordinates(positions)
    for name in ("theta_a", "theta_b"):
        assert np.all(coords[name] > math.radians(30)) and np.all(coords[name] < math.radians(150))
    assert geometry.values[0] == pytest.approx(float(coords["r"].mean()), abs=1e-9)
    lo, hi = SelectionBounds().distance_k_bounds
    assert lo <= geometry.force_constants[0] <= hi
    assert len(geometry.labels) == 6 and geometry.labels[0].startswith("RES")


def test_no_receptor_atoms_within_reach_is_refused() -> None:
    mean, noise = _receptor()
    far = _frames(mean * 3.0 + 2.0, noise)
    ligand = _frames(HEXAGON, np.full(6, 0.005))
    with pytest.raises(RestraintError, match=r"within 1\.2 nm"):
        choose_restraint(far, ligand, list(range(12)), [""] * 12, BENZENE, SelectionBounds(), 300.0)


def test_a_ligand_without_three_heavy_atoms_is_refused() -> None:
    mean, noise = _receptor()
    water_like = LigandAtoms(
        indices=[0, 1, 2], names=["O", "H1", "H2"], heavy=[True, False, False], in_ring=[False] * 3
    )
    ligand = _frames(np.array([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], float), np.full(3, 0.005))
    with pytest.raises(RestraintError, match="1 heavy atom"):
        choose_restraint(
            _frames(mean, noise), ligand, list(range(12)), [""] * 12, water_like, SelectionBounds(), 300.0
        )

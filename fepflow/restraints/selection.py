"""Choosing a Boresch restraint from an equilibrium run of the complex.

Ligand anchors (l1, l2, l3): heavy atoms of the rigid core (ring atoms where the ligand has three or
more), l1 the one nearest the core's centre; l2 and l3 the pair whose distances to l1 and to each
other fluctuate least, with the angle l1-l2-l3 away from collinear.

Receptor anchors (r1, r2, r3): backbone Cα atoms within ``reach_nm`` of l1. Every ordered triple of
the ``max_candidates`` nearest steady ones is scored by the variances of the six Boresch coordinates
over the run (in units of kT/K at the force-constant ceilings) and refused when any of the angles
r3-r2-r1, r2-r1-l1 (θa) or r1-l1-l2 (θb) comes within ``min_angle_deg`` of 0° or 180° in any frame
(a near-collinear angle makes its dihedral undefined and the analytic correction wrong).

Equilibrium values are the run's means (circular for dihedrals); each force constant is kT / variance,
kept within the settings' bounds (a run too short to fluctuate gets the upper bound).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fepflow.restraints.correction import kT_kj_mol
from fepflow.restraints.errors import RestraintError
from fepflow.restraints.geometry import (
    COORDINATES,
    DIHEDRALS,
    BoreschGeometry,
    boresch_coordinates,
    circular_mean,
    wrapped,
)


@dataclass(frozen=True)
class SelectionBounds:
    """How anchors are chosen and how stiff the restraint may be."""

    reach_nm: float = 1.2
    """Receptor anchors lie within this distance of l1 (on average over the run)."""
    min_angle_deg: float = 30.0
    """No anchor angle within this of 0° or 180° in any frame."""
    max_candidates: int = 16
    distance_k_bounds: tuple[float, float] = (836.8, 8368.0)
    """K_r bounds, kJ/mol/nm² (2 to 20 kcal/mol/Å²)."""
    angle_k_bounds: tuple[float, float] = (41.84, 418.4)
    """Angular bounds, kJ/mol/rad² (10 to 100 kcal/mol/rad²)."""


@dataclass(frozen=True)
class LigandAtoms:
    """What the choice of ligand anchors needs: system indices, names, heavy and ring flags, bonds."""

    indices: Sequence[int]
    names: Sequence[str]
    heavy: Sequence[bool]
    in_ring: Sequence[bool]


def _angle_ok(angles: np.ndarray, min_angle: float) -> bool:
    return bool(np.all(angles > min_angle) and np.all(angles < math.pi - min_angle))


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    u, v = a - b, c - b
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def choose_ligand_anchors(
    frames: np.ndarray, ligand: LigandAtoms, min_angle_deg: float = 30.0
) -> tuple[int, int, int]:
    """Positions in ``ligand.indices`` order of l1, l2, l3; ``frames`` is (F, n_ligand, 3) nm."""
    heavy = [i for i, h in enumerate(ligand.heavy) if h]
    ring = [i for i in heavy if ligand.in_ring[i]]
    core = ring if len(ring) >= 3 else heavy
    if len(core) < 3:
        raise RestraintError(
            f"the ligand has {len(heavy)} heavy atom(s): a Boresch restraint needs three non-collinear ones"
        )
    mean = frames.mean(axis=0)
    centre = mean[core].mean(axis=0)
    l1 = min(core, key=lambda i: float(np.linalg.norm(mean[i] - centre)))
    min_angle = math.radians(min_angle_deg)
    best: tuple[float, int, int] | None = None
    for l2, l3 in itertools.permutations([i for i in core if i != l1], 2):
        if not _angle_ok(_angle(frames[:, l1], frames[:, l2], frames[:, l3]), min_angle):
            continue
        pairs = ((l1, l2), (l2, l3), (l1, l3))
        spread = sum(float(np.std(np.linalg.norm(frames[:, a] - frames[:, b], axis=-1))) for a, b in pairs)
        size = float(np.linalg.norm(mean[l2] - mean[l1]) + np.linalg.norm(mean[l3] - mean[l2]))
        score = spread + 0.01 * size  # rigid first, then compact
        if best is None or score < best[0]:
            best = (score, l2, l3)
    if best is None:
        raise RestraintError("the ligand's core atoms are collinear: no three of them make a usable angle")
    return l1, best[1], best[2]


def _score(coords: dict[str, np.ndarray], bounds: SelectionBounds, kT: float) -> float:
    """Sum over coordinates of variance / (kT / K_max): how far the triple moves against its restraint."""
    total = 0.0
    for name in COORDINATES:
        values = coords[name]
        variance = float(np.var(wrapped(values - circular_mean(values)) if name in DIHEDRALS else values))
        ceiling = bounds.distance_k_bounds[1] if name == "r" else bounds.angle_k_bounds[1]
        total += variance * ceiling / kT
    return total


def receptor_candidates(
    receptor_frames: np.ndarray, l1_frames: np.ndarray, bounds: SelectionBounds
) -> list[int]:
    """Candidate positions (into the receptor atoms) within reach of l1, steadiest and nearest first."""
    distances = np.linalg.norm(receptor_frames - l1_frames[:, None, :], axis=-1).mean(axis=0)
    within = [int(i) for i in np.flatnonzero(distances <= bounds.reach_nm)]
    fluctuation = receptor_frames.std(axis=0).sum(axis=-1)
    within.sort(key=lambda i: float(fluctuation[i]) + 0.1 * float(distances[i]))
    return within[: bounds.max_candidates]


def choose_receptor_anchors(
    receptor_frames: np.ndarray, ligand_frames: np.ndarray, bounds: SelectionBounds, temperature_K: float
) -> tuple[tuple[int, int, int], dict[str, np.ndarray]]:
    """Positions (into the receptor atoms) of r3, r2, r1 and the run's six coordinates for them.

    ``receptor_frames`` (F, M, 3) and ``ligand_frames`` (F, 3, 3): l1, l2, l3 over the run (nm).
    """
    candidates = receptor_candidates(receptor_frames, ligand_frames[:, 0], bounds)
    if len(candidates) < 3:
        raise RestraintError(
            f"only {len(candidates)} receptor backbone atom(s) lie within {bounds.reach_nm:g} nm of the ligand's "
            "anchor: no Boresch restraint is possible (is the ligand posed in the pocket?)"
        )
    min_angle, kT = math.radians(bounds.min_angle_deg), kT_kj_mol(temperature_K)
    best: tuple[float, tuple[int, int, int], dict[str, np.ndarray]] | None = None
    for r1, r2, r3 in itertools.permutations(candidates, 3):
        anchors = np.concatenate([receptor_frames[:, [r3, r2, r1]], ligand_frames], axis=1)
        coords = boresch_coordinates(anchors)
        receptor_angle = _angle(anchors[:, 0], anchors[:, 1], anchors[:, 2])
        if not all(_angle_ok(a, min_angle) for a in (receptor_angle, coords["theta_a"], coords["theta_b"])):
            continue
        score = _score(coords, bounds, kT)
        if best is None or score < best[0]:
            best = (score, (r3, r2, r1), coords)
    if best is None:
        raise RestraintError(
            f"no three of the {len(candidates)} receptor backbone atoms near the ligand make a restraint without "
            f"an angle within {bounds.min_angle_deg:g}° of collinear"
        )
    return best[1], best[2]


def fitted_geometry(
    coords: dict[str, np.ndarray],
    receptor_atoms: tuple[int, int, int],
    ligand_atoms: tuple[int, int, int],
    bounds: SelectionBounds,
    temperature_K: float,
    labels: Sequence[str] = (),
) -> BoreschGeometry:
    """Equilibrium values (means) and force constants (kT / variance, within bounds) from a run."""
    kT = kT_kj_mol(temperature_K)
    values, constants = [], []
    for name in COORDINATES:
        series = np.asarray(coords[name], dtype=float)
        if name in DIHEDRALS:
            centre = circular_mean(series)
            variance = float(np.var(wrapped(series - centre)))
        else:
            centre, variance = float(series.mean()), float(series.var())
        low, high = bounds.distance_k_bounds if name == "r" else bounds.angle_k_bounds
        k = high if variance <= kT / high else min(high, max(low, kT / variance))
        values.append(centre)
        constants.append(k)
    return BoreschGeometry(
        receptor_atoms=receptor_atoms,
        ligand_atoms=ligand_atoms,
        values=tuple(values),  # type: ignore[arg-type]
        force_constants=tuple(constants),  # type: ignore[arg-type]
        labels=tuple(labels),
    )


def choose_restraint(
    receptor_frames: np.ndarray,
    ligand_frames: np.ndarray,
    receptor_indices: Sequence[int],
    receptor_labels: Sequence[str],
    ligand: LigandAtoms,
    bounds: SelectionBounds,
    temperature_K: float,
) -> BoreschGeometry:
    """The restraint of a run: ``receptor_frames`` (F, M, 3) of the backbone candidates (system indices
    ``receptor_indices``), ``ligand_frames`` (F, n_ligand, 3) in ``ligand.indices`` order (nm)."""
    l1, l2, l3 = choose_ligand_anchors(ligand_frames, ligand, bounds.min_angle_deg)
    anchors = ligand_frames[:, [l1, l2, l3]]
    (r3, r2, r1), coords = choose_receptor_anchors(receptor_frames, anchors, bounds, temperature_K)
    labels = [receptor_labels[i] for i in (r3, r2, r1)] + [ligand.names[i] for i in (l1, l2, l3)]
    return fitted_geometry(
        coords,
        (receptor_indices[r3], receptor_indices[r2], receptor_indices[r1]),
        (ligand.indices[l1], ligand.indices[l2], ligand.indices[l3]),
        bounds,
        temperature_K,
        labels,
    )

"""The six Boresch coordinates of three receptor and three ligand atoms, and a restraint's geometry.

Atoms, in the order every function here takes them: ``(r3, r2, r1, l1, l2, l3)`` — receptor anchors
r1 (nearest the ligand), r2, r3 and ligand anchors l1 (nearest the receptor), l2, l3. With
``p1..p6`` that order, the coordinates are (Boresch et al. 2003, J Phys Chem B 107, 9535):

    r       = |p4 - p3|                  distance r1-l1
    theta_a = angle(p2, p3, p4)          r2-r1-l1
    theta_b = angle(p3, p4, p5)          r1-l1-l2
    phi_a   = dihedral(p1, p2, p3, p4)   r3-r2-r1-l1
    phi_b   = dihedral(p2, p3, p4, p5)   r2-r1-l1-l2
    phi_c   = dihedral(p3, p4, p5, p6)   r1-l1-l2-l3

(r, theta_a, phi_a) are the spherical coordinates of l1 in the receptor's frame and (theta_b, phi_b,
phi_c) the ligand's orientation in it (Euler angles), so the volume element of the ligand's rigid-body
motion is ``r² sin(theta_a) sin(theta_b) dr dtheta_a dphi_a dtheta_b dphi_b dphi_c``. Dihedrals follow
OpenMM's sign convention (IUPAC); lengths are nm, angles radians, force constants kJ/mol/nm² and
kJ/mol/rad².
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

COORDINATES = ("r", "theta_a", "theta_b", "phi_a", "phi_b", "phi_c")
"""The Boresch coordinates, in the order of :attr:`BoreschGeometry.values` and ``force_constants``."""
DIHEDRALS = ("phi_a", "phi_b", "phi_c")


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    u, v = a - b, c - b
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def _dihedral(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    b1, b2, b3 = b - a, c - b, d - c
    n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
    y = np.linalg.norm(b2, axis=-1) * np.sum(b1 * n2, axis=-1)
    return np.arctan2(y, np.sum(n1 * n2, axis=-1))


def boresch_coordinates(positions: np.ndarray) -> dict[str, np.ndarray]:
    """The six coordinates of anchor positions ``(..., 6, 3)`` (nm), ordered ``r3 r2 r1 l1 l2 l3``.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0, 1, 0], [0, 0, 0], [1, 0, 0], [1.5, 0, 0], [1.5, 1, 0], [2.5, 1, 0]], float)
    >>> round(float(boresch_coordinates(p)["r"]), 3)
    0.5
    """
    p = np.asarray(positions, dtype=float)
    p1, p2, p3, p4, p5, p6 = (p[..., i, :] for i in range(6))
    return {
        "r": np.linalg.norm(p4 - p3, axis=-1),
        "theta_a": _angle(p2, p3, p4),
        "theta_b": _angle(p3, p4, p5),
        "phi_a": _dihedral(p1, p2, p3, p4),
        "phi_b": _dihedral(p2, p3, p4, p5),
        "phi_c": _dihedral(p3, p4, p5, p6),
    }


def wrapped(delta: np.ndarray) -> np.ndarray:
    """Angle differences brought into [-pi, pi)."""
    return np.asarray(delta) - 2.0 * np.pi * np.floor((np.asarray(delta) + np.pi) / (2.0 * np.pi))


def circular_mean(angles: np.ndarray) -> float:
    """The mean of angles (radians) on the circle."""
    a = np.asarray(angles, dtype=float)
    return float(np.arctan2(np.mean(np.sin(a)), np.mean(np.cos(a))))


@dataclass(frozen=True)
class BoreschGeometry:
    """A Boresch restraint: its six atoms, equilibrium values and force constants.

    ``U = (1/2) sum_i K_i (x_i - x_i0)²`` over the six coordinates (dihedral differences wrapped into
    [-pi, pi)), scaled by ``lambda_restraints`` in the alchemical states.
    """

    receptor_atoms: tuple[int, int, int]
    """System indices of r3, r2, r1 (r1 nearest the ligand)."""
    ligand_atoms: tuple[int, int, int]
    """System indices of l1, l2, l3 (l1 nearest the receptor)."""
    values: tuple[float, float, float, float, float, float]
    """Equilibrium r (nm), theta_a, theta_b, phi_a, phi_b, phi_c (rad)."""
    force_constants: tuple[float, float, float, float, float, float]
    """K_r (kJ/mol/nm²) and the five angular constants (kJ/mol/rad²)."""
    labels: tuple[str, ...] = ()
    """Human-readable names of the six atoms (e.g. 'ALA 99 CA', 'benzene C3'), same order."""

    def __post_init__(self) -> None:
        from fepflow.restraints.errors import RestraintError

        atoms = (*self.receptor_atoms, *self.ligand_atoms)
        if len(set(atoms)) != 6:
            raise RestraintError(f"a Boresch restraint needs six distinct atoms, got {atoms}")
        if len(self.values) != 6 or len(self.force_constants) != 6:
            raise RestraintError("a Boresch restraint has six equilibrium values and six force constants")
        if any(k <= 0 for k in self.force_constants):
            raise RestraintError(f"force constants must be positive, got {self.force_constants}")
        if self.values[0] <= 0:
            raise RestraintError(f"the anchor distance must be positive, got {self.values[0]} nm")
        for name, theta in (("theta_a", self.values[1]), ("theta_b", self.values[2])):
            if not 0.0 < theta < np.pi:
                raise RestraintError(f"{name} must lie strictly between 0 and pi, got {theta}")

    @property
    def atoms(self) -> tuple[int, ...]:
        """The six atoms in the order ``r3 r2 r1 l1 l2 l3``."""
        return (*self.receptor_atoms, *self.ligand_atoms)

    def energy_kj_mol(self, positions: np.ndarray) -> np.ndarray:
        """The restraint energy of anchor positions ``(..., 6, 3)`` nm (fully on)."""
        coords = boresch_coordinates(positions)
        total = np.zeros(np.shape(coords["r"]))
        for name, x0, k in zip(COORDINATES, self.values, self.force_constants, strict=True):
            delta = coords[name] - x0
            if name in DIHEDRALS:
                delta = wrapped(delta)
            total = total + 0.5 * k * delta**2
        return total

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record, with the values and constants also given by name and in degrees."""
        record = asdict(self)
        record["by_coordinate"] = {
            name: {
                "value": float(x0) if name == "r" else float(np.degrees(x0)),
                "unit": "nm" if name == "r" else "deg",
                "force_constant": float(k),
                "force_constant_unit": "kJ/mol/nm^2" if name == "r" else "kJ/mol/rad^2",
            }
            for name, x0, k in zip(COORDINATES, self.values, self.force_constants, strict=True)
        }
        return record

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoreschGeometry:
        return cls(
            receptor_atoms=tuple(int(i) for i in data["receptor_atoms"]),  # type: ignore[arg-type]
            ligand_atoms=tuple(int(i) for i in data["ligand_atoms"]),  # type: ignore[arg-type]
            values=tuple(float(x) for x in data["values"]),  # type: ignore[arg-type]
            force_constants=tuple(float(k) for k in data["force_constants"]),  # type: ignore[arg-type]
            labels=tuple(str(s) for s in data.get("labels", ())),
        )

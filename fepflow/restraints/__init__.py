"""Boresch restraints for absolute binding free energies: the six-coordinate geometry, the OpenMM
force that applies it (scaled by ``lambda_restraints``), the choice of atoms from an equilibrium run,
and the analytic standard-state correction for releasing it (signs stated in
:mod:`fepflow.restraints.correction`).
"""

from fepflow.restraints.correction import (
    STANDARD_VOLUME_NM3,
    numerical_release_free_energy,
    restraint_release_free_energy,
)
from fepflow.restraints.errors import RestraintError
from fepflow.restraints.geometry import BoreschGeometry, boresch_coordinates

__all__ = [
    "STANDARD_VOLUME_NM3",
    "BoreschGeometry",
    "RestraintError",
    "boresch_coordinates",
    "numerical_release_free_energy",
    "restraint_release_free_energy",
]

"""The Boresch restraint as an OpenMM force, scaled by the global parameter ``lambda_restraints``.

``lambda_restraints = 0``: no restraint; ``1``: the restraint fully on. The force uses periodic
boundary conditions when the system does (the anchors may sit in different periodic images).
"""

from __future__ import annotations

from typing import Any

from fepflow.restraints.geometry import COORDINATES, DIHEDRALS, BoreschGeometry

LAMBDA_RESTRAINTS = "lambda_restraints"
FORCE_NAME = "BoreschRestraint"

_DEFINITIONS = {
    "r": "distance(p3, p4)",
    "theta_a": "angle(p2, p3, p4)",
    "theta_b": "angle(p3, p4, p5)",
    "phi_a": "dihedral(p1, p2, p3, p4)",
    "phi_b": "dihedral(p2, p3, p4, p5)",
    "phi_c": "dihedral(p3, p4, p5, p6)",
}


def _expression() -> str:
    terms, definitions = [], []
    for name in COORDINATES:
        delta = f"d_{name}"
        if name in DIHEDRALS:
            definitions.append(f"{delta} = dp_{name} - two_pi*floor((dp_{name} + pi)/two_pi)")
            definitions.append(f"dp_{name} = {_DEFINITIONS[name]} - {name}0")
        else:
            definitions.append(f"{delta} = {_DEFINITIONS[name]} - {name}0")
        terms.append(f"K_{name}*{delta}^2")
    constants = ["pi = 3.141592653589793", "two_pi = 6.283185307179586"]
    return f"{LAMBDA_RESTRAINTS}*0.5*({' + '.join(terms)}); " + "; ".join(definitions + constants)


def boresch_force(geometry: BoreschGeometry, *, periodic: bool, lambda_value: float = 1.0) -> Any:
    """A ``CustomCompoundBondForce`` over ``geometry.atoms`` (r3 r2 r1 l1 l2 l3)."""
    import openmm

    force = openmm.CustomCompoundBondForce(6, _expression())
    force.setName(FORCE_NAME)
    force.addGlobalParameter(LAMBDA_RESTRAINTS, float(lambda_value))
    names = [f"{name}0" for name in COORDINATES] + [f"K_{name}" for name in COORDINATES]
    for name in names:
        force.addPerBondParameter(name)
    force.addBond(list(geometry.atoms), [*geometry.values, *geometry.force_constants])
    force.setUsesPeriodicBoundaryConditions(periodic)
    return force


def add_boresch_force(system: Any, geometry: BoreschGeometry, *, lambda_value: float = 1.0) -> int:
    """Add the restraint to ``system`` in its own force group; returns the force's index."""
    force = boresch_force(
        geometry, periodic=system.usesPeriodicBoundaryConditions(), lambda_value=lambda_value
    )
    return int(system.addForce(force))

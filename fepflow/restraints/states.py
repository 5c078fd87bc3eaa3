"""Thermodynamic states of a restrained alchemical leg: ``lambda_restraints`` next to the alchemical
lambdas (openmmtools composable states), the restraint switched on before anything is decoupled.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from fepflow.engine.storage import quiet_openmmtools_loggers
from fepflow.restraints.errors import RestraintError
from fepflow.restraints.force import LAMBDA_RESTRAINTS, add_boresch_force
from fepflow.restraints.geometry import BoreschGeometry

quiet_openmmtools_loggers()  # before openmmtools (and with it pymbar) is first imported

from openmmtools.states import GlobalParameterState  # noqa: E402


class RestraintState(GlobalParameterState):  # type: ignore[misc]
    """``lambda_restraints`` of a thermodynamic state (0: restraint off, 1: on)."""

    lambda_restraints = GlobalParameterState.GlobalParameter(LAMBDA_RESTRAINTS, standard_value=1.0)


def restrained_alchemical_states(
    system: Any,
    ligand_atoms: Sequence[int],
    geometry: BoreschGeometry,
    restraints: Sequence[float],
    electrostatics: Sequence[float],
    sterics: Sequence[float],
    temperature_K: float,
    pressure_bar: float | None,
) -> list[Any]:
    """One state per window: ``lambda_restraints``, ``lambda_electrostatics``, ``lambda_sterics``.

    The restraint joins a copy of ``system`` before it is made alchemical (the factory keeps the force
    as it is); :func:`fepflow.engine.alchemical.build_alchemical_states` builds the alchemical
    system and its states, which gain the restraint's composable state here.
    """
    from openmmtools import alchemy, states

    from fepflow.engine.alchemical import build_alchemical_states

    if len(restraints) != len(electrostatics):
        raise RestraintError(
            f"{len(restraints)} lambda_restraints values for {len(electrostatics)} alchemical states"
        )
    if any(not 0.0 <= x <= 1.0 for x in restraints):
        raise RestraintError("lambda_restraints values must lie in [0, 1]")
    restrained = copy.deepcopy(system)
    add_boresch_force(restrained, geometry, lambda_value=1.0)
    alchemical = build_alchemical_states(
        restrained, ligand_atoms, electrostatics, sterics, temperature_K, pressure_bar
    )
    first = alchemical.states[0]
    base = states.ThermodynamicState(
        alchemical.system, temperature=first.temperature, pressure=first.pressure
    )
    out = []
    for thermo, value in zip(alchemical.states, restraints, strict=True):
        lambdas = alchemy.AlchemicalState.from_system(alchemical.system)
        lambdas.lambda_electrostatics = thermo.lambda_electrostatics
        lambdas.lambda_sterics = thermo.lambda_sterics
        restraint = RestraintState.from_system(alchemical.system)
        restraint.lambda_restraints = float(value)
        out.append(states.CompoundThermodynamicState(base, [lambdas, restraint]))
    return out

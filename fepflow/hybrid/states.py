"""openmmtools thermodynamic states of a hybrid: one per master lambda, sharing one Context.

:class:`HybridLambdaState` is an openmmtools ``GlobalParameterState`` over the hybrid's global
parameters, so the multistate samplers switch windows by setting parameters (one Context per
replica, not per window). Safe because the hybrid carries no lambda-dependent long-range correction
(:mod:`fepflow.hybrid.dispersion`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import openmm
from openmm import unit
from openmmtools.states import CompoundThermodynamicState, GlobalParameterState, ThermodynamicState

from fepflow.hybrid.parameters import lambda_values


class HybridLambdaState(GlobalParameterState):
    """The hybrid's lambda parameters (0: state A, 1: state B)."""

    lambda_bonded = GlobalParameterState.GlobalParameter("lambda_bonded", standard_value=0.0)
    lambda_electrostatics_core = GlobalParameterState.GlobalParameter(
        "lambda_electrostatics_core", standard_value=0.0
    )
    lambda_electrostatics_delete = GlobalParameterState.GlobalParameter(
        "lambda_electrostatics_delete", standard_value=0.0
    )
    lambda_electrostatics_insert = GlobalParameterState.GlobalParameter(
        "lambda_electrostatics_insert", standard_value=0.0
    )
    lambda_sterics_core = GlobalParameterState.GlobalParameter("lambda_sterics_core", standard_value=0.0)
    lambda_sterics_delete = GlobalParameterState.GlobalParameter("lambda_sterics_delete", standard_value=0.0)
    lambda_sterics_insert = GlobalParameterState.GlobalParameter("lambda_sterics_insert", standard_value=0.0)


def hybrid_states(
    system: openmm.System, lambdas: Sequence[float], temperature_K: float, pressure_bar: float | None = None
) -> list[Any]:
    """One ``CompoundThermodynamicState`` per master lambda; a barostat is added for a pressure."""
    system = copy.deepcopy(system)
    if pressure_bar is not None:
        if not system.usesPeriodicBoundaryConditions():
            raise ValueError("a pressure was given for a non-periodic system")
        if not any(isinstance(f, openmm.MonteCarloBarostat) for f in system.getForces()):
            system.addForce(openmm.MonteCarloBarostat(pressure_bar * unit.bar, temperature_K * unit.kelvin))
    pressure = None if pressure_bar is None else pressure_bar * unit.bar
    base = ThermodynamicState(system, temperature=temperature_K * unit.kelvin, pressure=pressure)
    template = HybridLambdaState.from_system(system)
    out = []
    for lam in lambdas:
        state = CompoundThermodynamicState(copy.deepcopy(base), [copy.deepcopy(template)])
        for name, value in lambda_values(float(lam)).items():
            setattr(state, name, value)
        out.append(state)
    return out

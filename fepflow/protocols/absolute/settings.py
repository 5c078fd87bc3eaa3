"""Settings and presets of the absolute hydration protocol, with units in every field name."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import Field, model_validator

from fepflow.models.base import ModelError
from fepflow.protocols.common.settings import (
    MAX_STATES,
    SMOKE_SIMULATION,
    ChemistrySettings,
    SettingsSection,
)

# Electrostatics switched off first (with sterics on), then sterics decoupled with softcore: openfe's
# default schedule for AbsoluteSolvationProtocol (14 windows: openfe/protocols/openmm_afe/
# equil_solvation_afe_method.py, _default_settings, LambdaSettings lambda_elec / lambda_vdw, there
# written as 1 - λ), used by the production preset so that its results compare with openfe's.
DEFAULT_LAMBDA_ELECTROSTATICS = (1.0, 0.75, 0.5, 0.25, *(0.0,) * 10)
DEFAULT_LAMBDA_STERICS = (*(1.0,) * 5, 0.88, 0.76, 0.64, 0.52, 0.4, 0.3, 0.23, 0.15, 0.0)


class LambdaSchedule(SettingsSection):
    """One entry per alchemical state; state 0 is fully coupled, the last fully decoupled."""

    electrostatics: tuple[float, ...] = Field(
        DEFAULT_LAMBDA_ELECTROSTATICS, max_length=MAX_STATES, description="λ_elec per state"
    )
    sterics: tuple[float, ...] = Field(
        DEFAULT_LAMBDA_STERICS, max_length=MAX_STATES, description="λ_sterics per state"
    )

    @model_validator(mode="after")
    def _valid(self) -> LambdaSchedule:
        elec, ster = self.electrostatics, self.sterics
        if len(elec) < 2 or len(ster) < 2:
            raise ModelError("a lambda schedule needs at least two states")
        if len(elec) != len(ster):
            raise ModelError(
                f"lambda schedule lengths differ: {len(elec)} electrostatics, {len(ster)} sterics"
            )
        if any(not 0.0 <= x <= 1.0 for x in elec + ster):
            raise ModelError("lambda values must lie in [0, 1]")
        if (elec[0], ster[0]) != (1.0, 1.0):
            raise ModelError("a lambda schedule must start fully coupled (electrostatics 1, sterics 1)")
        if (elec[-1], ster[-1]) != (0.0, 0.0):
            raise ModelError("a lambda schedule must end fully decoupled (electrostatics 0, sterics 0)")
        if any(b > a for a, b in itertools.pairwise(elec)) or any(b > a for a, b in itertools.pairwise(ster)):
            raise ModelError("lambda values must not increase from one state to the next")
        return self

    @property
    def n_states(self) -> int:
        return len(self.electrostatics)


class AbsoluteHydrationSettings(ChemistrySettings):
    """Everything that defines an absolute hydration free energy calculation."""

    lambdas: LambdaSchedule = Field(default_factory=LambdaSchedule)


PRODUCTION: dict[str, Any] = {
    "simulation": {
        "timestep_fs": 4.0,
        "hydrogen_mass_amu": 3.0,
        "steps_per_iteration": 250,
        "equilibration_ps": 200.0,
        "production_iterations": 5000,
        "checkpoint_interval_iterations": 100,
    },
    "system": {"solvent_model": "tip3p", "solvent_padding_nm": 1.2, "nonbonded_cutoff_nm": 0.9},
}
"""TIP3P, PME, 4 fs with HMR, 5 ns per state: for GPUs and published comparisons."""

# In implicit solvent there is no solvent for the ligand's Lennard-Jones terms to be decoupled from, so
# once the charges are off one steric step suffices. A molecule alone is decoupled with plain forces
# (fepflow.engine.isolated: ~14 us per step for toluene on Reference, where openmmtools' alchemical GB
# force cost 1.45 ms), so an iteration's fixed cost (energy matrix, exchanges, storage: ~10-20 ms) is
# paid for by 2 ps of MD per state; sampling stops once the MBAR error of the leg is 0.05 kcal/mol and
# its halves agree (at least 50 iterations, 100 ps per state; at most 200, checked every 10).
FAST: dict[str, Any] = {
    "lambdas": {
        "electrostatics": [1.0, 0.75, 0.5, 0.25, 0.0, 0.0],
        "sterics": [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    },
    "simulation": {
        "timestep_fs": 4.0,
        "hydrogen_mass_amu": 3.0,
        "steps_per_iteration": 500,
        "equilibration_ps": 20.0,
        "production_iterations": 200,
        "checkpoint_interval_iterations": 10,
        "target_error_kcal_mol": 0.05,
        "min_production_iterations": 50,
    },
    "system": {"solvent_model": "obc2"},
    "repeats": 1,
}
"""GBSA-OBC2 implicit solvent, minutes per molecule on 2 CPU cores: for demos (its results say so)."""

SMOKE: dict[str, Any] = {
    "lambdas": {"electrostatics": [1.0, 0.0, 0.0], "sterics": [1.0, 1.0, 0.0]},
    "simulation": SMOKE_SIMULATION,
    "system": {"solvent_model": "obc2"},
    "repeats": 1,
}
"""Mechanics only, numbers meaningless (:func:`fepflow.models.smoke.is_smoke` says so): implicit
solvent, 3 states, 4 iterations of 10 steps of 2 fs (0.08 ps per state)."""

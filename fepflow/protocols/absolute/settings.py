"""Settings of the absolute hydration protocol, with units in every field name."""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fepflow.models.base import ModelError

# Electrostatics switched off first (with sterics on), then sterics decoupled with softcore.
DEFAULT_LAMBDA_ELECTROSTATICS = (1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
DEFAULT_LAMBDA_STERICS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.2, 0.1, 0.0)


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ThermodynamicSettings(_Settings):
    temperature_K: float = Field(298.15, gt=0, description="temperature, kelvin")
    pressure_bar: float = Field(1.01325, gt=0, description="pressure for NPT legs, bar")


class LambdaSchedule(_Settings):
    """One entry per alchemical state; state 0 is fully coupled, the last fully decoupled."""

    electrostatics: tuple[float, ...] = Field(DEFAULT_LAMBDA_ELECTROSTATICS, description="λ_elec per state")
    sterics: tuple[float, ...] = Field(DEFAULT_LAMBDA_STERICS, description="λ_sterics per state")

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


class SimulationSettings(_Settings):
    timestep_fs: float = Field(4.0, gt=0, le=6, description="integration step, fs (4 with HMR, 2 without)")
    hydrogen_mass_amu: float | None = Field(3.0, gt=1, description="HMR hydrogen mass, amu; None disables")
    collision_rate_per_ps: float = Field(1.0, gt=0, description="Langevin friction, 1/ps")
    steps_per_iteration: int = Field(250, gt=0, description="MD steps between replica exchanges")
    equilibration_ps: float = Field(
        100.0, ge=0, description="MD at the fully coupled state before sampling (NPT in explicit solvent), ps"
    )
    production_iterations: int = Field(1000, gt=0, description="sampler iterations per state")
    minimize_max_iterations: int = Field(
        1000, ge=0, description="energy minimisation steps (once, before equilibration); 0 = until converged"
    )
    checkpoint_interval_iterations: int = Field(
        50,
        gt=0,
        description="iterations between checkpoints; a resumed or extended run restarts from the last "
        "one, so keep production_iterations (and extensions) multiples of it",
    )
    sampler: Literal["replica-exchange", "independent"] = Field("replica-exchange", description="sampler")


class SystemSettings(_Settings):
    forcefield: Literal["gaff2", "gaff"] = Field("gaff2", description="small-molecule force field")
    charge_method: Literal["am1bcc"] = Field("am1bcc", description="partial charge method")
    solvent_model: Literal["tip3p", "obc2"] = Field(
        "tip3p", description="explicit TIP3P or implicit GBSA-OBC2"
    )
    solvent_padding_nm: float = Field(1.2, gt=0, description="water padding around the solute, nm")
    nonbonded_cutoff_nm: float = Field(0.9, gt=0, description="real-space cutoff, nm")


class AbsoluteHydrationSettings(_Settings):
    """Everything that defines an absolute hydration free energy calculation."""

    thermo: ThermodynamicSettings = Field(default_factory=ThermodynamicSettings)
    lambdas: LambdaSchedule = Field(default_factory=LambdaSchedule)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    system: SystemSettings = Field(default_factory=SystemSettings)
    repeats: int = Field(3, ge=1, le=100, description="independent repeats per transformation")

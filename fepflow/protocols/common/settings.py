"""Settings sections every chemistry protocol shares (thermodynamics, sampling, system), units in every name."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

MAX_ITERATIONS = 1_000_000
"""The most sampler (or minimiser, or checkpoint) iterations any run may ask for."""
MAX_STEPS_PER_ITERATION = 100_000
MAX_EQUILIBRATION_PS = 100_000.0
MAX_PADDING_NM = 5.0
MAX_STATES = 256
"""The most alchemical states (lambda windows) of any schedule."""
# Hard bounds, far beyond any sensible run, so that no submission can ask for unbounded work; every
# preset lies well inside them, and a bound does not change the settings a model dumps (so content
# keys stay as they were). What a hub accepts is bounded further, by settings an operator may raise
# (fepflow.settings.ApiSettings: atoms per system, ns per state).


class SettingsSection(BaseModel):
    """A frozen settings section that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ThermodynamicSettings(SettingsSection):
    temperature_K: float = Field(298.15, gt=0, le=1000, description="temperature, kelvin")
    pressure_bar: float = Field(1.01325, gt=0, le=10_000, description="pressure for NPT legs, bar")


class SimulationSettings(SettingsSection):
    timestep_fs: float = Field(4.0, gt=0, le=6, description="integration step, fs (4 with HMR, 2 without)")
    hydrogen_mass_amu: float | None = Field(
        3.0, gt=1, le=10, description="HMR hydrogen mass, amu; None disables"
    )
    collision_rate_per_ps: float = Field(1.0, gt=0, le=1000, description="Langevin friction, 1/ps")
    steps_per_iteration: int = Field(
        250, gt=0, le=MAX_STEPS_PER_ITERATION, description="MD steps between replica exchanges"
    )
    equilibration_ps: float = Field(
        100.0,
        ge=0,
        le=MAX_EQUILIBRATION_PS,
        description="MD at the fully coupled state before sampling (NPT in explicit solvent), ps",
    )
    production_iterations: int = Field(
        1000, gt=0, le=MAX_ITERATIONS, description="sampler iterations per state"
    )
    minimize_max_iterations: int = Field(
        1000,
        ge=0,
        le=MAX_ITERATIONS,
        description="energy minimisation steps (once, before equilibration); 0 = until converged",
    )
    checkpoint_interval_iterations: int = Field(
        50,
        gt=0,
        le=MAX_ITERATIONS,
        description="iterations between checkpoints; a resumed or extended run restarts from the last "
        "one, so keep production_iterations (and extensions) multiples of it",
    )
    sampler: Literal["replica-exchange", "independent"] = Field("replica-exchange", description="sampler")
    target_error_kcal_mol: float | None = Field(
        None,
        gt=0,
        le=100,
        description="sample until precise: stop a leg at the first checkpoint where its MBAR uncertainty "
        "is at most this (kcal/mol) and its forward and reverse halves agree; production_iterations is "
        "then the maximum. None: always run production_iterations",
    )
    min_production_iterations: int = Field(
        0,
        ge=0,
        le=MAX_ITERATIONS,
        description="with a target error: iterations every leg runs at least (capped at production_iterations)",
    )

    @model_serializer(mode="wrap")
    def _without_stopping_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dump the stopping rule only when one is set: settings without one keep the content keys
        they had before it existed."""
        data: dict[str, Any] = handler(self)
        if self.target_error_kcal_mol is None:
            data.pop("target_error_kcal_mol", None)
            if self.min_production_iterations == 0:
                data.pop("min_production_iterations", None)
        return data

    @property
    def ns_per_state(self) -> float:
        """Production sampling per state, ns."""
        return self.production_iterations * self.steps_per_iteration * self.timestep_fs * 1e-6


class SystemSettings(SettingsSection):
    forcefield: Literal["gaff2", "gaff"] = Field("gaff2", description="small-molecule force field")
    charge_method: Literal["am1bcc"] = Field("am1bcc", description="partial charge method")
    solvent_model: Literal["tip3p", "obc2"] = Field(
        "tip3p", description="explicit TIP3P or implicit GBSA-OBC2"
    )
    solvent_padding_nm: float = Field(
        1.2, gt=0, le=MAX_PADDING_NM, description="water padding around the solute, nm"
    )
    nonbonded_cutoff_nm: float = Field(0.9, gt=0, le=3.0, description="real-space cutoff, nm")


class ChemistrySettings(SettingsSection):
    """The sections of every chemistry protocol's settings; each protocol adds its lambdas."""

    thermo: ThermodynamicSettings = Field(default_factory=ThermodynamicSettings)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    system: SystemSettings = Field(default_factory=SystemSettings)
    repeats: int = Field(3, ge=1, le=100, description="independent repeats per transformation")


SMOKE_SIMULATION: dict[str, Any] = {
    "timestep_fs": 2.0,
    "hydrogen_mass_amu": None,
    "steps_per_iteration": 10,
    "equilibration_ps": 0.02,
    "production_iterations": 4,
    "checkpoint_interval_iterations": 2,
    "minimize_max_iterations": 200,
}
"""The sampling of every protocol's ``smoke`` preset: 4 iterations of 10 steps after 20 fs of
equilibration — the mechanics of a whole run in seconds, with numbers that mean nothing."""

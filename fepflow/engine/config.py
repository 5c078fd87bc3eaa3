"""How a multistate run samples: :class:`SamplerConfig`, read by equilibration and sampling alike."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DYNAMICS_FIELDS = ("method", "timestep_fs", "collision_rate_per_ps", "steps_per_iteration")
"""The settings a stored run was made with that a resume must not change."""


class SamplerConfig(BaseModel):
    """How a multistate run samples (online analysis is always off: analysis runs afterwards)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["replica-exchange", "independent"] = Field("replica-exchange", description="sampler")
    timestep_fs: float = Field(2.0, gt=0, le=10, description="Langevin middle integrator step, fs")
    collision_rate_per_ps: float = Field(1.0, gt=0, description="Langevin friction, 1/ps")
    steps_per_iteration: int = Field(250, gt=0, description="MD steps between exchanges")
    equilibration_steps: int = Field(0, ge=0, description="plain MD at state 0 before sampling")
    production_iterations: int = Field(1000, gt=0, description="sampler iterations")
    checkpoint_interval_iterations: int = Field(50, gt=0, description="iterations between checkpoints")
    minimize: bool = Field(True, description="minimise once at state 0 before equilibration")
    minimize_max_iterations: int = Field(0, ge=0, description="minimiser iterations; 0 until converged")
    minimize_tolerance_kj_per_mol_nm: float = Field(10.0, gt=0, description="minimiser force tolerance")
    nan_restart_attempts: int = Field(1, ge=0, description="retries of a NaN'd move before failing")

    def dynamics(self) -> dict[str, Any]:
        """The :data:`DYNAMICS_FIELDS` and their values."""
        return {name: getattr(self, name) for name in DYNAMICS_FIELDS}

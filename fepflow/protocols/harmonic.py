"""A validation protocol with an exact answer: harmonic oscillators whose force constant changes.

Each task is a real OpenMM multistate simulation (replica exchange over the force constants) analysed
with MBAR, checkpointed and resumable like any other protocol, and takes about a second. The exact
ΔG is ``(3/2) N ln(K_last / K_first)`` kT, so a pipeline that loses, duplicates or mixes up results is
caught by the numbers. It exercises the orchestration (scheduling, slots, retries, publishing)
without the chemistry; its transformations' chemical systems are labels only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from fepflow.models.transformations import Transformation
from fepflow.protocols.base import Protocol, ProtocolError, Report, RunContext, TaskResult

LEGS = ("oscillators",)
STORAGE = "oscillators.nc"


class HarmonicReferenceSettings(BaseModel):
    """Settings of :class:`HarmonicReferenceProtocol`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    force_constants_kT_per_nm2: list[float] = Field(
        default_factory=lambda: [1000.0, 1400.0, 2000.0],
        max_length=256,
        description="force constant of each state, kT/nm^2",
    )
    n_particles: int = Field(1, ge=1, le=1000, description="independent 3D oscillators")
    temperature_K: float = Field(300.0, gt=0, le=1000, description="temperature, K")
    timestep_fs: float = Field(2.0, gt=0, le=4, description="Langevin middle integrator step, fs")
    collision_rate_per_ps: float = Field(
        20.0,
        gt=0,
        le=1000,
        description="Langevin friction, 1/ps: strong, so that an oscillator forgets its energy within an iteration",
    )
    steps_per_iteration: int = Field(50, gt=0, le=100_000, description="MD steps between exchanges")
    production_iterations: int = Field(200, gt=0, le=1_000_000, description="sampler iterations")
    checkpoint_interval_iterations: int = Field(
        20, gt=0, le=1_000_000, description="iterations between checkpoints"
    )
    repeats: int = Field(1, ge=1, le=100, description="independent repeats per transformation")

    @field_validator("force_constants_kT_per_nm2")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if len(value) < 2 or min(value) <= 0:
            raise ValueError("need at least two positive force constants")
        return value


class HarmonicReferenceProtocol(Protocol):
    """Oscillators from the first force constant to the last; exact answer known."""

    name: ClassVar[str] = "harmonic-reference"
    settings_model = HarmonicReferenceSettings
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "fast": {"production_iterations": 100},
        "production": {"production_iterations": 1000, "n_particles": 10},
    }
    settings: HarmonicReferenceSettings
    default_platform: ClassVar[str | None] = "Reference"
    """A few particles: the Reference platform beats any other here, and keeps results exact."""

    def validate(self, transformation: Transformation) -> None:
        if transformation.protocol != self.name:
            raise ProtocolError(
                f"transformation {transformation.label!r} is not a {self.name} transformation"
            )

    def exact_dg_kT(self) -> float:
        k = self.settings.force_constants_kT_per_nm2
        return float(1.5 * self.settings.n_particles * np.log(k[-1] / k[0]))

    def legs(self, transformation: Transformation) -> Sequence[str]:
        return LEGS

    def setup(self, run: RunContext) -> dict[str, Any]:
        """Nothing to build: the oscillators' states are made where they are sampled."""
        return {}

    def simulate(self, run: RunContext, setup: dict[str, Any], leg: str, report: Report) -> Any:
        from fepflow.engine.config import SamplerConfig
        from fepflow.engine.reference import harmonic_oscillator_states
        from fepflow.engine.sampling import run_multistate

        s = self.settings
        ref = harmonic_oscillator_states(
            s.force_constants_kT_per_nm2, n_particles=s.n_particles, temperature_K=s.temperature_K
        )
        config = SamplerConfig(
            timestep_fs=s.timestep_fs,
            collision_rate_per_ps=s.collision_rate_per_ps,
            steps_per_iteration=s.steps_per_iteration,
            production_iterations=s.production_iterations,
            checkpoint_interval_iterations=s.checkpoint_interval_iterations,
            minimize=False,
        )
        return run_multistate(
            ref.states,
            ref.positions,
            run.workdir / STORAGE,
            config,
            run.platform,
            extend_iterations=run.extend_iterations,
            progress=report,
        )

    def analyse(self, run: RunContext, setup: dict[str, Any], outcomes: dict[str, Any]) -> TaskResult:
        from fepflow.analysis.mbar import analyse_storage, kT_kcal_per_mol
        from fepflow.protocols.common.analysis import leg_summary
        from fepflow.protocols.common.bundle import bundle_files

        (outcome,) = outcomes.values()
        result = analyse_storage(outcome.storage_path)
        kt = kT_kcal_per_mol(self.settings.temperature_K)
        leg = leg_summary(result, outcome, self.settings.temperature_K)
        summary = self.task_summary(
            run,
            dg_kcal_mol=result.dg_kT * kt,
            dg_mbar_error_kcal_mol=result.ddg_kT * kt,
            exact_dg_kcal_mol=self.exact_dg_kT() * kt,
            legs={LEGS[0]: leg},
            warnings=[]
            if leg.forward_reverse_agree
            else ["oscillators: forward and reverse halves disagree"],
        )
        run.bundle.mkdir(parents=True, exist_ok=True)
        energies = run.bundle / "energies.npz"
        np.savez_compressed(energies, overlap=result.overlap_matrix, f_k_kT=result.f_k_kT)
        # the bundle is the numbers alone: a second's run has no log worth keeping
        return TaskResult(
            summary=summary, files=bundle_files(run.workdir, {"energies.npz": energies}, with_log=False)
        )

"""A validation protocol with an exact answer: harmonic oscillators whose force constant changes.

Each task is a real OpenMM multistate simulation (replica exchange over the force constants) analysed
with MBAR, checkpointed and resumable like any other protocol, and takes about a second. The exact
ΔG is ``(3/2) N ln(K_last / K_first)`` kT, so a pipeline that loses, duplicates or mixes up results is
caught by the numbers. It exercises the orchestration (scheduling, slots, retries, publishing)
without the chemistry; its transformations' chemical systems are labels only.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from fepflow.models.transformations import Transformation
from fepflow.protocols.base import Estimate, Progress, Protocol, ProtocolError, TaskResult, gather_estimates

log = logging.getLogger(__name__)


class HarmonicReferenceSettings(BaseModel):
    """Settings of :class:`HarmonicReferenceProtocol`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    force_constants_kT_per_nm2: list[float] = Field(
        default_factory=lambda: [1000.0, 1400.0, 2000.0], description="force constant of each state, kT/nm^2"
    )
    n_particles: int = Field(1, ge=1, le=1000, description="independent 3D oscillators")
    temperature_K: float = Field(300.0, gt=0, description="temperature, K")
    timestep_fs: float = Field(2.0, gt=0, le=4, description="Langevin middle integrator step, fs")
    collision_rate_per_ps: float = Field(
        20.0,
        gt=0,
        description="Langevin friction, 1/ps: strong, so that an oscillator forgets its energy within an iteration",
    )
    steps_per_iteration: int = Field(50, gt=0, description="MD steps between exchanges")
    production_iterations: int = Field(200, gt=0, description="sampler iterations")
    checkpoint_interval_iterations: int = Field(20, gt=0, description="iterations between checkpoints")
    repeats: int = Field(1, ge=1, description="independent repeats per transformation")

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

    def validate(self, transformation: Transformation) -> None:
        if transformation.protocol != self.name:
            raise ProtocolError(
                f"transformation {transformation.label!r} is not a {self.name} transformation"
            )

    def exact_dg_kT(self) -> float:
        k = self.settings.force_constants_kT_per_nm2
        return float(1.5 * self.settings.n_particles * np.log(k[-1] / k[0]))

    def run_task(
        self,
        transformation: Transformation,
        *,
        repeat: int,
        workdir: Path,
        platform: str | None = None,
        extend_iterations: int = 0,
        progress: Progress | None = None,
        threads: int | None = None,
        **_: Any,
    ) -> TaskResult:
        from fepflow.engine.storage import quiet_openmmtools_loggers

        quiet_openmmtools_loggers()
        from fepflow.analysis.mbar import analyse_storage, kT_kcal_per_mol
        from fepflow.engine.config import SamplerConfig
        from fepflow.engine.platforms import choose_platform
        from fepflow.engine.reference import harmonic_oscillator_states
        from fepflow.engine.sampling import run_multistate
        from fepflow.protocols.common.analysis import leg_summary, versions

        self.validate(transformation)
        s = self.settings
        workdir.mkdir(parents=True, exist_ok=True)
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
        # a few particles: the Reference platform beats any other here, and keeps results exact
        choice = choose_platform(platform or "Reference", threads=threads)
        storage = workdir / "oscillators.nc"

        def report(done: int, total: int) -> None:
            if progress is not None:
                progress("oscillators", done, total)

        outcome = run_multistate(
            ref.states,
            ref.positions,
            storage,
            config,
            choice,
            extend_iterations=extend_iterations,
            progress=report,
        )
        result = analyse_storage(storage)
        kt = kT_kcal_per_mol(s.temperature_K)
        leg = leg_summary(result, outcome, s.temperature_K)
        warnings = (
            [] if leg["forward_reverse_agree"] else ["oscillators: forward and reverse halves disagree"]
        )
        summary: dict[str, Any] = {
            "protocol": self.name,
            "transformation": transformation.key,
            "repeat": repeat,
            "dg_kcal_mol": result.dg_kT * kt,
            "ddg_kcal_mol": result.ddg_kT * kt,
            "exact_dg_kcal_mol": self.exact_dg_kT() * kt,
            "legs": {"oscillators": leg},
            "platform": outcome.platform_name,
            "ns_per_day": {"oscillators": outcome.ns_per_day},
            "warnings": warnings,
            "settings": s.model_dump(mode="json"),
            "versions": versions(),
        }
        bundle = workdir / "bundle"
        bundle.mkdir(exist_ok=True)
        np.savez_compressed(bundle / "energies.npz", overlap=result.overlap_matrix, f_k_kT=result.f_k_kT)
        (bundle / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
        return TaskResult(
            summary=summary,
            files={"summary.json": bundle / "summary.json", "energies.npz": bundle / "energies.npz"},
        )

    @staticmethod
    def gather(summaries: list[dict[str, Any]]) -> Estimate:
        return gather_estimates([(s["dg_kcal_mol"], s["ddg_kcal_mol"]) for s in summaries])

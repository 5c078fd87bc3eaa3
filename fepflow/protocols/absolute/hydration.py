"""Absolute hydration free energy: decouple a ligand in solvent and in vacuum; ΔG_hyd from the two legs.

    ΔG_hyd = ΔG(decouple in vacuum) - ΔG(decouple in solvent)      (negative: favourable in water)

Units of one task (one repeat), each resumable from what it left on disk:

    setup    ligand parameters (GAFF2/AM1-BCC by default) and both legs' systems
    solvent  multistate sampling over the lambda schedule (NPT for explicit solvent)
    vacuum   the same without solvent
    analyse  MBAR of each leg, ΔG_hyd with its error, plots and the result bundle

Presets: ``production`` (TIP3P, PME, 5 ns per state: for GPUs and published comparisons) and ``fast``
(GBSA-OBC2 implicit solvent, minutes per molecule on 2 CPU cores: for demos; its results say so).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

from fepflow.models.components import SmallMoleculeComponent, SolventComponent
from fepflow.models.transformations import Transformation
from fepflow.protocols.base import (
    Estimate,
    Progress,
    Protocol,
    ProtocolError,
    TaskResult,
    gather_estimates,
    run_stages,
    task_log,
)
from fepflow.protocols.absolute.settings import AbsoluteHydrationSettings

logger = logging.getLogger(__name__)

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
# In implicit solvent there is no solvent for the ligand's Lennard-Jones terms to be decoupled from, so
# once the charges are off one steric step suffices. The alchemical GB force costs about 1.5 ms per step
# even for a 6-atom molecule (Reference platform), hence short iterations.
FAST: dict[str, Any] = {
    "lambdas": {
        "electrostatics": [1.0, 0.75, 0.5, 0.25, 0.0, 0.0],
        "sterics": [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    },
    "simulation": {
        "timestep_fs": 4.0,
        "hydrogen_mass_amu": 3.0,
        "steps_per_iteration": 50,
        "equilibration_ps": 10.0,
        "production_iterations": 200,
        "checkpoint_interval_iterations": 50,
    },
    "system": {"solvent_model": "obc2"},
    "repeats": 1,
}


class AbsoluteHydrationProtocol(Protocol):
    """Absolute hydration free energy of one small molecule."""

    name: ClassVar[str] = "absolute-hydration"
    settings_model = AbsoluteHydrationSettings
    presets: ClassVar[dict[str, dict[str, Any]]] = {"production": PRODUCTION, "fast": FAST}
    settings: AbsoluteHydrationSettings

    @staticmethod
    def ligand_of(transformation: Transformation) -> SmallMoleculeComponent:
        """The one small molecule present in state A and absent from state B."""
        a, b = transformation.state_a.small_molecules(), transformation.state_b.small_molecules()
        b_keys = {m.key for m in b.values()}
        leaving = [m for m in a.values() if m.key not in b_keys]
        if len(leaving) != 1 or b:
            raise ProtocolError(
                f"transformation {transformation.label!r}: absolute hydration needs state A = one small "
                f"molecule (with solvent) and state B = the solvent alone; found {len(a)} molecule(s) in "
                f"state A and {len(b)} in state B"
            )
        return leaving[0]

    def validate(self, transformation: Transformation) -> None:
        ligand = self.ligand_of(transformation)
        if transformation.state_a.protein is not None or transformation.state_b.protein is not None:
            raise ProtocolError(
                f"transformation {transformation.label!r}: hydration free energies have no protein"
            )
        charge = ligand.formal_charge
        if charge != 0:
            raise ProtocolError(
                f"molecule {ligand.name!r} has net charge {charge:+d}: absolute hydration free energies of "
                "charged molecules need finite-size and net-charge corrections (PME's neutralising "
                "background, Rocklin et al. 2013) that fepflow does not apply yet; only neutral molecules "
                "are supported"
            )
        solvent_a = transformation.state_a.solvent
        if (
            self.settings.system.solvent_model == "tip3p"
            and solvent_a is not None
            and solvent_a.water_model != "tip3p"
        ):
            raise ProtocolError(
                f"transformation {transformation.label!r}: the solvent component asks for "
                f"{solvent_a.water_model}, the settings for tip3p"
            )

    def run_task(
        self,
        transformation: Transformation,
        *,
        repeat: int,
        workdir: Path,
        platform: str | None = None,
        extend_iterations: int = 0,
        progress: Progress | None = None,
        cache_dir: Path | None = None,
        ligand_parameters: Any = None,
        threads: int | None = None,
    ) -> TaskResult:
        from fepflow.engine.platforms import choose_platform
        from fepflow.engine.storage import quiet_openmmtools_loggers

        quiet_openmmtools_loggers()  # before openmmtools (and with it pymbar) is first imported
        from fepflow.protocols.common.analysis import analyse_task
        from fepflow.protocols.absolute.setup import run_setup
        from fepflow.protocols.absolute.simulate import simulate_leg

        self.validate(transformation)
        ligand = self.ligand_of(transformation)
        solvent: SolventComponent | None = transformation.state_a.solvent
        with task_log(workdir):
            logger.info("task %s repeat %d of %s in %s", ligand.name, repeat, transformation.key, workdir)
            choice = choose_platform(platform, threads=threads)
            return run_stages(
                setup=lambda: run_setup(
                    ligand,
                    solvent,
                    self.settings,
                    workdir,
                    cache_dir=cache_dir,
                    ligand_parameters=ligand_parameters,
                ),
                legs=("solvent", "vacuum"),
                simulate=lambda leg, report: simulate_leg(
                    leg, workdir, self.settings, choice, extend_iterations=extend_iterations, progress=report
                ),
                analyse=lambda setup, outcomes, timings: analyse_task(
                    transformation,
                    ligand,
                    self.settings,
                    setup,
                    outcomes,
                    workdir,
                    repeat=repeat,
                    platform_name=choice.name,
                    timings=timings,
                ),
                progress=progress,
            )

    @staticmethod
    def gather(summaries: list[dict[str, Any]]) -> Estimate:
        return gather_estimates([(s["dg_hyd_kcal_mol"], s["dg_hyd_error_kcal_mol"]) for s in summaries])

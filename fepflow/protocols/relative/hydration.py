"""Relative hydration free energy: ligand A -> ligand B through a hybrid topology, in water and in vacuum.

    ΔΔG_hyd(A -> B) = ΔG_solvent(A -> B) - ΔG_vacuum(A -> B) = ΔG_hyd(B) - ΔG_hyd(A)

Units of one task (one repeat), each resumable from what it left on disk:

    setup    both ligands' parameters, the hybrid in A's water box and in vacuum
    solvent  multistate sampling over the master lambda (NPT)
    vacuum   the same without solvent
    analyse  MBAR per leg, ΔΔG with its error, the end states' dispersion correction, plots, bundle

The transformation must carry an atom mapping (:func:`fepflow.mapping.map_ligands`, or
:func:`fepflow.planning.plan_network`). Presets: ``production`` (TIP3P, 1.2 nm padding, 5 ns per
window: GPUs) and ``fast`` (TIP3P, 1.0 nm padding, 50 ps per window after 20 ps of NPT). Measured
for ethane -> methanol (1,468 atoms in the solvent leg, 11 windows, CPU platform, one thread): 52 ns/day
summed over the windows, so about 15 minutes for the fast solvent leg (25-30 with the 2-core machine
shared); the vacuum leg takes seconds. Implicit solvent is not offered:
the hybrid topology supports vacuum and explicit solvent only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

from fepflow.models.components import SmallMoleculeComponent
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
from fepflow.protocols.absolute.hydration import PRODUCTION as ABSOLUTE_PRODUCTION
from fepflow.protocols.relative.settings import RelativeHydrationSettings, RelativeSettings

logger = logging.getLogger(__name__)

# production sampling is the absolute protocol's: TIP3P, 1.2 nm padding, 4 fs HMR, 5 ns per window
PRODUCTION: dict[str, Any] = ABSOLUTE_PRODUCTION
FAST: dict[str, Any] = {
    "simulation": {
        "timestep_fs": 4.0,
        "hydrogen_mass_amu": 3.0,
        "steps_per_iteration": 250,
        "equilibration_ps": 20.0,
        "production_iterations": 50,
        "checkpoint_interval_iterations": 10,
    },
    "system": {"solvent_model": "tip3p", "solvent_padding_nm": 1.0, "nonbonded_cutoff_nm": 0.9},
    "repeats": 1,
}


def check_pair(a: SmallMoleculeComponent, b: SmallMoleculeComponent, settings: RelativeSettings) -> None:
    """What both relative protocols require of a ligand pair and their settings."""
    if a.formal_charge != b.formal_charge:
        raise ProtocolError(
            f"{a.name!r} ({a.formal_charge:+d}) and {b.name!r} ({b.formal_charge:+d}) differ in net charge: only "
            "charge-conserving transformations are supported"
        )
    if settings.system.solvent_model != "tip3p":
        raise ProtocolError(
            "the relative protocols run in explicit TIP3P only (the hybrid topology has no implicit-solvent terms)"
        )


class RelativeHydrationProtocol(Protocol):
    """Relative hydration free energy of two ligands sharing a mapped core."""

    name: ClassVar[str] = "relative-hydration"
    settings_model = RelativeHydrationSettings
    presets: ClassVar[dict[str, dict[str, Any]]] = {"production": PRODUCTION, "fast": FAST}
    settings: RelativeHydrationSettings

    @staticmethod
    def ligands_of(transformation: Transformation) -> tuple[SmallMoleculeComponent, SmallMoleculeComponent]:
        """The mapped small molecules of state A and state B."""
        mapping = transformation.mapping
        if mapping is None:
            raise ProtocolError(
                f"transformation {transformation.label!r} has no atom mapping; relative protocols need one "
                "(fepflow.mapping.map_ligands or fepflow.planning.plan_network)"
            )
        a = transformation.state_a.components.get(mapping.component_a)
        b = transformation.state_b.components.get(mapping.component_b)
        if not isinstance(a, SmallMoleculeComponent) or not isinstance(b, SmallMoleculeComponent):
            raise ProtocolError(
                f"transformation {transformation.label!r}: the mapped components must be small molecules"
            )
        for label, mol in (("A", a), ("B", b)):
            n = mol.n_atoms
            side = 0 if label == "A" else 1
            if any(pair[side] >= n for pair in mapping.pairs):
                raise ProtocolError(
                    f"transformation {transformation.label!r}: mapping index beyond ligand {label}'s {n} atoms"
                )
        return a, b

    def validate(self, transformation: Transformation) -> None:
        a, b = self.ligands_of(transformation)
        for state in (transformation.state_a, transformation.state_b):
            if state.protein is not None:
                raise ProtocolError(
                    f"transformation {transformation.label!r}: hydration free energies have no protein"
                )
            if len(state.small_molecules()) != 1:
                raise ProtocolError(
                    f"transformation {transformation.label!r}: each state must hold exactly one small molecule"
                )
        check_pair(a, b, self.settings)
        solvent = transformation.state_a.solvent
        if solvent is not None and solvent.water_model != "tip3p":
            raise ProtocolError(
                f"transformation {transformation.label!r}: solvent asks for {solvent.water_model}, not tip3p"
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

        quiet_openmmtools_loggers()
        from fepflow.mapping import draw_mapping
        from fepflow.protocols.relative.analysis import LEGS, analyse_task, simulate_leg
        from fepflow.protocols.relative.setup import run_setup

        self.validate(transformation)
        ligand_a, ligand_b = self.ligands_of(transformation)
        mapping = transformation.mapping
        assert mapping is not None
        with task_log(workdir):
            choice = choose_platform(platform, threads=threads)
            return run_stages(
                setup=lambda: run_setup(
                    ligand_a,
                    ligand_b,
                    mapping,
                    transformation.state_a.solvent,
                    self.settings,
                    workdir,
                    cache_dir=cache_dir,
                    ligand_parameters=ligand_parameters,
                ),
                legs=LEGS,
                simulate=lambda leg, report: simulate_leg(
                    leg, workdir, self.settings, choice, extend_iterations=extend_iterations, progress=report
                ),
                analyse=lambda setup, outcomes, timings: analyse_task(
                    transformation,
                    self.settings,
                    setup,
                    outcomes,
                    workdir,
                    repeat=repeat,
                    platform_name=choice.name,
                    timings=timings,
                    mapping_svg=draw_mapping(ligand_a, ligand_b, mapping),
                ),
                progress=progress,
            )

    @staticmethod
    def gather(summaries: list[dict[str, Any]]) -> Estimate:
        return gather_estimates([(s["ddg_hyd_kcal_mol"], s["ddg_hyd_error_kcal_mol"]) for s in summaries])

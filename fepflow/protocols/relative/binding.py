"""Relative binding free energy, one leg per transformation: the hybrid in the complex, or in water.

A network planned with a protein (:func:`fepflow.planning.plan_network`) holds two ``relative-binding``
transformations per ligand pair: the complex leg (states hold the protein) and the solvent leg. Each
task runs its one leg:

    setup    both ligands' parameters; ligand A in the complex (ff14SB, TIP3P, ions; tleap) or in water;
             the hybrid with ligand B
    complex | solvent   multistate sampling over the master lambda (NPT)
    analyse  MBAR, ΔG_leg(A -> B) with the end states' dispersion correction, plots, bundle

and ΔΔG_bind(A -> B) = ΔG_complex - ΔG_solvent is formed over the network
(:func:`fepflow.analysis.network.edges_from_estimates`). The complex leg places ligand A where its
component's conformer puts it: give ligand A posed in the protein's frame (e.g. from an SDF).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

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
from fepflow.protocols.relative.hydration import FAST, PRODUCTION, RelativeHydrationProtocol, check_pair
from fepflow.protocols.relative.settings import RelativeBindingSettings

logger = logging.getLogger(__name__)


class RelativeBindingProtocol(Protocol):
    """One leg (complex or solvent) of a relative binding free energy."""

    name: ClassVar[str] = "relative-binding"
    settings_model = RelativeBindingSettings
    presets: ClassVar[dict[str, dict[str, Any]]] = {"production": PRODUCTION, "fast": FAST}
    settings: RelativeBindingSettings

    @staticmethod
    def leg_of(transformation: Transformation) -> str:
        return "complex" if transformation.state_a.protein is not None else "solvent"

    def validate(self, transformation: Transformation) -> None:
        a, b = RelativeHydrationProtocol.ligands_of(transformation)
        pa, pb = transformation.state_a.protein, transformation.state_b.protein
        if (pa is None) != (pb is None) or (pa is not None and pb is not None and pa.key != pb.key):
            raise ProtocolError(
                f"transformation {transformation.label!r}: both states must hold the same protein (complex leg) "
                "or none (solvent leg)"
            )
        check_pair(a, b, self.settings)
        if pa is not None and a.conformer is None:
            raise ProtocolError(
                f"transformation {transformation.label!r}: the complex leg needs ligand {a.name!r} posed in the "
                "protein's frame (a 3D conformer, e.g. from an SDF); it has none"
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
        from fepflow.protocols.relative.analysis import analyse_task, simulate_leg
        from fepflow.protocols.relative.setup import run_binding_setup

        self.validate(transformation)
        ligand_a, ligand_b = RelativeHydrationProtocol.ligands_of(transformation)
        mapping = transformation.mapping
        assert mapping is not None
        leg = self.leg_of(transformation)

        def analyse(setup: Any, outcomes: dict[str, Any], timings: dict[str, float]) -> TaskResult:
            result = analyse_task(
                transformation,
                self.settings,
                setup,
                outcomes,
                workdir,
                repeat=repeat,
                platform_name=choice.name,
                timings=timings,
                mapping_svg=draw_mapping(ligand_a, ligand_b, mapping),
                signs={leg: 1.0},
                protocol=self.name,
                value_key="dg_leg",
            )
            result.summary["leg"] = leg
            return result

        with task_log(workdir):
            choice = choose_platform(platform, threads=threads)
            return run_stages(
                setup=lambda: run_binding_setup(
                    ligand_a,
                    ligand_b,
                    mapping,
                    transformation.state_a.protein,
                    transformation.state_a.solvent,
                    self.settings,
                    workdir,
                    cache_dir=cache_dir,
                    ligand_parameters=ligand_parameters,
                ),
                legs=(leg,),
                simulate=lambda leg, report: simulate_leg(
                    leg, workdir, self.settings, choice, extend_iterations=extend_iterations, progress=report
                ),
                analyse=analyse,
                progress=progress,
            )

    @staticmethod
    def gather(summaries: list[dict[str, Any]]) -> Estimate:
        return gather_estimates([(s["dg_leg_kcal_mol"], s["dg_leg_error_kcal_mol"]) for s in summaries])

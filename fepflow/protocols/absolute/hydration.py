"""Absolute hydration free energy: decouple a ligand in solvent and in vacuum; ΔG_hyd from the two legs.

    ΔG_hyd = ΔG(decouple in vacuum) - ΔG(decouple in solvent)      (negative: favourable in water)

Units of one task (one repeat), each resumable from what it left on disk:

    setup    ligand parameters (GAFF2/AM1-BCC by default) and both legs' systems
    solvent  multistate sampling over the lambda schedule (NPT for explicit solvent)
    vacuum   the same without solvent
    analyse  MBAR of each leg, ΔG_hyd with its error, plots and the result bundle

Presets: ``production`` (TIP3P, PME, 5 ns per state: for GPUs and published comparisons) and ``fast``
(GBSA-OBC2 implicit solvent, minutes per molecule on 2 CPU cores: for demos; its results say so);
``smoke`` (3 states, 0.08 ps per state: mechanics only, numbers meaningless).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.transformations import Transformation
from fepflow.protocols.absolute.settings import FAST, PRODUCTION, SMOKE, AbsoluteHydrationSettings
from fepflow.protocols.base import Protocol, ProtocolError, Report, RunContext, TaskResult

IMPLICIT_SOLVENT_NOTE = (
    "implicit GBSA-OBC2 (fast preset: for demos, not comparable with explicit-solvent benchmarks)"
)


class AbsoluteHydrationProtocol(Protocol):
    """Absolute hydration free energy of one small molecule."""

    name: ClassVar[str] = "absolute-hydration"
    settings_model = AbsoluteHydrationSettings
    presets: ClassVar[dict[str, dict[str, Any]]] = {"production": PRODUCTION, "fast": FAST, "smoke": SMOKE}
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

    def legs(self, transformation: Transformation) -> Sequence[str]:
        from fepflow.protocols.absolute.setup import LEGS

        return LEGS

    def setup(self, run: RunContext) -> dict[str, Any]:
        from fepflow.protocols.absolute.setup import run_setup

        return run_setup(run, self.ligand_of(run.transformation), self.settings)

    def simulate(self, run: RunContext, setup: dict[str, Any], leg: str, report: Report) -> Any:
        from fepflow.protocols.absolute.simulate import simulate_leg

        return simulate_leg(run, leg, self.settings, report)

    def analyse(self, run: RunContext, setup: dict[str, Any], outcomes: dict[str, Any]) -> TaskResult:
        """MBAR on both legs and the bundle; ΔG_hyd = ΔG(vacuum decoupling) - ΔG(solvent decoupling)."""
        from fepflow.chemistry.implicit_limits import implicit_solvent_warnings
        from fepflow.protocols.common.analysis import analyse_legs, leg_warnings
        from fepflow.protocols.common.bundle import bundle_files

        ligand = self.ligand_of(run.transformation)
        temperature = self.settings.thermo.temperature_K
        analysed = analyse_legs(outcomes, run.bundle, temperature_K=temperature, title=ligand.name)
        solvent, vacuum = analysed.legs["solvent"], analysed.legs["vacuum"]
        implicit = self.settings.system.solvent_model == "obc2"
        summary = self.task_summary(
            run,
            quantity="ΔG_hyd",
            dg_kcal_mol=vacuum.dg_kcal_mol - solvent.dg_kcal_mol,
            dg_mbar_error_kcal_mol=math.hypot(vacuum.dg_mbar_error_kcal_mol, solvent.dg_mbar_error_kcal_mol),
            ligand=ligand.name,
            ligand_key=ligand.key,
            legs=analysed.legs,
            warnings=leg_warnings(analysed.legs) + (implicit_solvent_warnings(ligand) if implicit else []),
            solvent_model=IMPLICIT_SOLVENT_NOTE
            if implicit
            else f"explicit {setup.get('solvent_leg', 'TIP3P')}",
            sampling_ns_per_state=self.settings.simulation.ns_per_state,
            setup=setup,
        )
        return TaskResult(summary=summary, files=bundle_files(run.workdir, analysed.files))

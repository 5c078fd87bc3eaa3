"""What the relative protocols share: a mapped ligand pair, a hybrid per leg, and one way to run them.

A relative protocol says only where each leg puts the hybrid (:meth:`RelativeProtocol.hybrid_legs`:
a water box, vacuum or the protein complex, and the leg's sign in the result) and what it requires
of the states (:meth:`RelativeProtocol.check_states`); setup, simulation and analysis are common.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.transformations import Transformation
from fepflow.protocols.base import Protocol, ProtocolError, Report, RunContext, TaskResult
from fepflow.protocols.relative.settings import FAST, PRODUCTION, SMOKE, RelativeSettings

if TYPE_CHECKING:
    from fepflow.protocols.relative.setup import Environment


class HybridLeg(NamedTuple):
    """One leg of a relative task: where ligand A (and the hybrid) is put, and the leg's sign."""

    environment: Environment
    sign: float = 1.0


def check_pair(a: SmallMoleculeComponent, b: SmallMoleculeComponent, settings: RelativeSettings) -> None:
    """What every relative protocol requires of a ligand pair and its settings."""
    if a.formal_charge != b.formal_charge:
        raise ProtocolError(
            f"{a.name!r} ({a.formal_charge:+d}) and {b.name!r} ({b.formal_charge:+d}) differ in net charge: only "
            "charge-conserving transformations are supported"
        )
    if settings.system.solvent_model != "tip3p":
        raise ProtocolError(
            "the relative protocols run in explicit TIP3P only (the hybrid topology has no implicit-solvent terms)"
        )


class RelativeProtocol(Protocol):
    """A free energy difference A -> B through a hybrid topology over a mapped core."""

    settings: RelativeSettings
    presets: ClassVar[dict[str, dict[str, Any]]] = {"production": PRODUCTION, "fast": FAST, "smoke": SMOKE}
    quantity: ClassVar[str]
    """What a task's dg_kcal_mol is."""

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
        for side, (label, mol) in enumerate((("A", a), ("B", b))):
            n = mol.n_atoms
            if any(pair[side] >= n for pair in mapping.pairs):
                raise ProtocolError(
                    f"transformation {transformation.label!r}: mapping index beyond ligand {label}'s {n} atoms"
                )
        return a, b

    def validate(self, transformation: Transformation) -> None:
        a, b = self.ligands_of(transformation)
        self.check_states(transformation, a)
        check_pair(a, b, self.settings)

    @abstractmethod
    def check_states(self, transformation: Transformation, ligand_a: SmallMoleculeComponent) -> None:
        """Raise :class:`ProtocolError` where the states do not fit this protocol (protein, solvent)."""

    @abstractmethod
    def hybrid_legs(self, transformation: Transformation) -> dict[str, HybridLeg]:
        """The task's legs, by name, in the order they run."""

    def task_leg(self, transformation: Transformation) -> str | None:
        """The leg a task runs when its transformation is one leg of a larger cycle (None: all)."""
        return None

    def legs(self, transformation: Transformation) -> Sequence[str]:
        return tuple(self.hybrid_legs(transformation))

    def setup(self, run: RunContext) -> dict[str, Any]:
        from fepflow.protocols.relative.setup import run_setup

        environments = {name: leg.environment for name, leg in self.hybrid_legs(run.transformation).items()}
        return run_setup(run, self.ligands_of(run.transformation), environments, self.settings)

    def simulate(self, run: RunContext, setup: dict[str, Any], leg: str, report: Report) -> Any:
        from fepflow.protocols.relative.simulate import simulate_leg

        return simulate_leg(run, leg, setup["lambdas"], self.settings, report)

    def analyse(self, run: RunContext, setup: dict[str, Any], outcomes: dict[str, Any]) -> TaskResult:
        """MBAR of each leg and the bundle; the result is ``Σ sign(leg) (ΔG_leg + dispersion_leg)``."""
        from fepflow.analysis.mbar import kT_kcal_per_mol
        from fepflow.protocols.common.analysis import analyse_legs, leg_warnings
        from fepflow.protocols.common.bundle import bundle_files
        from fepflow.protocols.relative.analysis import dispersion_correction, mapping_drawing

        transformation, temperature = run.transformation, self.settings.thermo.temperature_K
        title = f"{setup['ligand_a']} -> {setup['ligand_b']}"
        analysed = analyse_legs(outcomes, run.bundle, temperature_K=temperature, title=title)
        assert transformation.mapping is not None  # validated
        analysed.files.update(
            mapping_drawing(*self.ligands_of(transformation), transformation.mapping, run.bundle)
        )
        signs = {name: leg.sign for name, leg in self.hybrid_legs(transformation).items()}
        correction, volume = dispersion_correction(run.workdir, outcomes, signs)
        legs = analysed.legs
        summary = self.task_summary(
            run,
            quantity=self.quantity,
            dg_kcal_mol=sum(signs[name] * legs[name].dg_kcal_mol for name in legs) + correction,
            dg_mbar_error_kcal_mol=math.sqrt(sum(legs[name].dg_mbar_error_kcal_mol ** 2 for name in legs)),
            ligand_a=setup["ligand_a"],
            ligand_b=setup["ligand_b"],
            leg=self.task_leg(transformation),
            dispersion_correction_kcal_mol=correction,
            mean_volume_nm3=volume,
            kT_kcal_mol=kT_kcal_per_mol(temperature),
            sampling_ns_per_state=self.settings.simulation.ns_per_state,
            legs=legs,
            warnings=leg_warnings(legs),
            setup=setup,
        )
        return TaskResult(summary=summary, files=bundle_files(run.workdir, analysed.files))

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

from typing import ClassVar

from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.transformations import Transformation
from fepflow.protocols.base import ProtocolError
from fepflow.protocols.relative.base import HybridLeg, RelativeProtocol
from fepflow.protocols.relative.settings import RelativeBindingSettings


class RelativeBindingProtocol(RelativeProtocol):
    """One leg (complex or solvent) of a relative binding free energy."""

    name: ClassVar[str] = "relative-binding"
    settings_model = RelativeBindingSettings
    quantity: ClassVar[str] = "ΔG_leg(A -> B)"
    settings: RelativeBindingSettings

    @staticmethod
    def leg_of(transformation: Transformation) -> str:
        return "complex" if transformation.state_a.protein is not None else "solvent"

    def check_states(self, transformation: Transformation, ligand_a: SmallMoleculeComponent) -> None:
        pa, pb = transformation.state_a.protein, transformation.state_b.protein
        if (pa is None) != (pb is None) or (pa is not None and pb is not None and pa.key != pb.key):
            raise ProtocolError(
                f"transformation {transformation.label!r}: both states must hold the same protein (complex leg) "
                "or none (solvent leg)"
            )
        if pa is not None and ligand_a.conformer is None:
            raise ProtocolError(
                f"transformation {transformation.label!r}: the complex leg needs ligand {ligand_a.name!r} posed "
                "in the protein's frame (a 3D conformer, e.g. from an SDF); it has none"
            )

    def hybrid_legs(self, transformation: Transformation) -> dict[str, HybridLeg]:
        leg = self.leg_of(transformation)
        return {leg: HybridLeg("complex" if leg == "complex" else "water")}

    def task_leg(self, transformation: Transformation) -> str | None:
        return self.leg_of(transformation)

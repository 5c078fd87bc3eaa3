"""Relative hydration free energy: ligand A -> ligand B through a hybrid topology, in water and in vacuum.

    ΔΔG_hyd(A -> B) = ΔG_solvent(A -> B) - ΔG_vacuum(A -> B) = ΔG_hyd(B) - ΔG_hyd(A)

Units of one task (one repeat), each resumable from what it left on disk:

    setup    both ligands' parameters, the hybrid in A's water box and in vacuum
    solvent  multistate sampling over the master lambda (NPT)
    vacuum   the same without solvent
    analyse  MBAR per leg, ΔΔG with its error, the end states' dispersion correction, plots, bundle

The transformation must carry an atom mapping (:func:`fepflow.mapping.map_ligands`, or
:func:`fepflow.planning.plan_network`). Presets: ``production`` (TIP3P, 1.2 nm padding, 5 ns per
window: GPUs), ``fast`` (TIP3P, 1.0 nm padding, 50 ps per window after 20 ps of NPT) and ``smoke``
(3 windows, 0.08 ps per window: mechanics only, numbers meaningless). Measured
for ethane -> methanol (1,468 atoms in the solvent leg, 11 windows, CPU platform, one thread): 52 ns/day
summed over the windows, so about 15 minutes for the fast solvent leg (25-30 with the 2-core machine
shared); the vacuum leg takes seconds. Implicit solvent is not offered:
the hybrid topology supports vacuum and explicit solvent only.
"""

from __future__ import annotations

from typing import ClassVar

from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.transformations import Transformation
from fepflow.protocols.base import ProtocolError
from fepflow.protocols.relative.base import HybridLeg, RelativeProtocol
from fepflow.protocols.relative.settings import FAST, PRODUCTION, SMOKE, RelativeHydrationSettings

__all__ = ["FAST", "PRODUCTION", "SMOKE", "RelativeHydrationProtocol"]


class RelativeHydrationProtocol(RelativeProtocol):
    """Relative hydration free energy of two ligands sharing a mapped core."""

    name: ClassVar[str] = "relative-hydration"
    settings_model = RelativeHydrationSettings
    quantity: ClassVar[str] = "ΔΔG_hyd(A -> B)"
    settings: RelativeHydrationSettings

    def check_states(self, transformation: Transformation, ligand_a: SmallMoleculeComponent) -> None:
        for state in (transformation.state_a, transformation.state_b):
            if state.protein is not None:
                raise ProtocolError(
                    f"transformation {transformation.label!r}: hydration free energies have no protein"
                )
            if len(state.small_molecules()) != 1:
                raise ProtocolError(
                    f"transformation {transformation.label!r}: each state must hold exactly one small molecule"
                )
        solvent = transformation.state_a.solvent
        if solvent is not None and solvent.water_model != "tip3p":
            raise ProtocolError(
                f"transformation {transformation.label!r}: solvent asks for {solvent.water_model}, not tip3p"
            )

    def hybrid_legs(self, transformation: Transformation) -> dict[str, HybridLeg]:
        return {"solvent": HybridLeg("water", +1.0), "vacuum": HybridLeg("vacuum", -1.0)}

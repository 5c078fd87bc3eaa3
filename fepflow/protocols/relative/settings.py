"""Settings and presets of the relative protocols (hydration and binding), with units in every field name.

The hybrid topology has one master lambda (0 = ligand A, 1 = ligand B); the per-term lambdas follow
from it (:mod:`fepflow.hybrid.schedule`). ``windows`` fixes the number of states; ``None`` lets the
size of the change decide (11 windows, more for larger changes).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from fepflow.protocols.absolute.settings import PRODUCTION as ABSOLUTE_PRODUCTION
from fepflow.protocols.common.settings import SMOKE_SIMULATION, ChemistrySettings, SettingsSection


class HybridLambdaSettings(SettingsSection):
    windows: int | None = Field(
        None, ge=3, le=64, description="lambda windows; None: 11, more for big changes"
    )
    softcore_alpha: float = Field(
        0.5, gt=0, le=10, description="Beutler softcore alpha of the unique atoms' sterics"
    )


class RelativeSettings(ChemistrySettings):
    """Everything that defines a relative free energy calculation over one edge."""

    lambdas: HybridLambdaSettings = Field(default_factory=HybridLambdaSettings)


class RelativeHydrationSettings(RelativeSettings):
    """Relative hydration free energy: the hybrid in solvent and in vacuum."""


class RelativeBindingSettings(RelativeSettings):
    """Relative binding free energy: the hybrid in the complex and in solvent."""


PRODUCTION: dict[str, Any] = ABSOLUTE_PRODUCTION
"""The absolute protocol's production sampling: TIP3P, 1.2 nm padding, 4 fs HMR, 5 ns per window."""
FAST: dict[str, Any] = {
    "simulation": {
        "timestep_fs": 4.0,
        "hydrogen_mass_amu": 3.0,
        "steps_per_iteration": 250,
        "equilibration_ps": 20.0,
        "production_iterations": 50,
        "checkpoint_interval_iterations": 10,
        "target_error_kcal_mol": 0.1,
        "min_production_iterations": 20,
    },
    "system": {"solvent_model": "tip3p", "solvent_padding_nm": 1.0, "nonbonded_cutoff_nm": 0.9},
    "repeats": 1,
}
"""TIP3P, 1.0 nm padding, 20-50 ps per window after 20 ps of NPT: a leg stops at the first checkpoint
after 20 ps where its MBAR error is 0.1 kcal/mol and its halves agree."""
SMOKE: dict[str, Any] = {
    "lambdas": {"windows": 3},
    "simulation": SMOKE_SIMULATION,
    "system": {"solvent_padding_nm": 0.6, "nonbonded_cutoff_nm": 0.6},
    "repeats": 1,
}
"""Mechanics only, numbers meaningless (:func:`fepflow.models.smoke.is_smoke` says so): 3 windows, 4
iterations of 10 steps of 2 fs (0.08 ps per window), 0.6 nm of water: a campaign through the stack on
a CPU in minutes."""

"""Settings of the relative protocols (hydration and binding), with units in every field name.

The hybrid topology has one master lambda (0 = ligand A, 1 = ligand B); the per-term lambdas follow
from it (:mod:`fepflow.hybrid.schedule`). ``windows`` fixes the number of states; ``None`` lets the
size of the change decide (11 windows, more for larger changes).
"""

from __future__ import annotations

from pydantic import Field

from fepflow.protocols.absolute.settings import (
    SimulationSettings,
    SystemSettings,
    ThermodynamicSettings,
    _Settings,
)


class HybridLambdaSettings(_Settings):
    windows: int | None = Field(
        None, ge=3, le=64, description="lambda windows; None: 11, more for big changes"
    )
    softcore_alpha: float = Field(
        0.5, gt=0, description="Beutler softcore alpha of the unique atoms' sterics"
    )


class RelativeSettings(_Settings):
    """Everything that defines a relative free energy calculation over one edge."""

    thermo: ThermodynamicSettings = Field(default_factory=ThermodynamicSettings)
    lambdas: HybridLambdaSettings = Field(default_factory=HybridLambdaSettings)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    system: SystemSettings = Field(default_factory=SystemSettings)
    repeats: int = Field(3, ge=1, le=100, description="independent repeats per transformation")


class RelativeHydrationSettings(RelativeSettings):
    """Relative hydration free energy: the hybrid in solvent and in vacuum."""


class RelativeBindingSettings(RelativeSettings):
    """Relative binding free energy: the hybrid in the complex and in solvent."""

"""A chemical system: named components (ligand, protein, solvent) that are simulated together."""

from __future__ import annotations

from pydantic import Field, field_validator

from fepflow.models.base import KeyedModel, ModelError
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent


class ChemicalSystem(KeyedModel):
    """Components by role label, e.g. ``{"ligand": ..., "protein": ..., "solvent": ...}``."""

    name: str = Field(..., min_length=1, description="the system's name, unique within a network")
    components: dict[str, SmallMoleculeComponent | ProteinComponent | SolventComponent] = Field(
        ..., description="components by role label"
    )

    @field_validator("components")
    @classmethod
    def _not_empty(cls, value: dict[str, object]) -> dict[str, object]:
        if not value:
            raise ModelError("a chemical system needs at least one component")
        for label in value:
            if not label.strip():
                raise ModelError("component labels must not be empty")
        return dict(sorted(value.items()))

    def small_molecules(self) -> dict[str, SmallMoleculeComponent]:
        return {k: v for k, v in self.components.items() if isinstance(v, SmallMoleculeComponent)}

    @property
    def solvent(self) -> SolventComponent | None:
        return next((c for c in self.components.values() if isinstance(c, SolventComponent)), None)

    @property
    def protein(self) -> ProteinComponent | None:
        return next((c for c in self.components.values() if isinstance(c, ProteinComponent)), None)

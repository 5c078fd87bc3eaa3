"""Transformations (edges): state A to state B under a named protocol with its full settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fepflow.models.base import KeyedModel, ModelError
from fepflow.models.protocol_registry import normalise_settings
from fepflow.models.systems import ChemicalSystem


class AtomMapping(BaseModel):
    """Atoms of a component in state A matched to atoms of a component in state B (0-based)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    component_a: str = Field(..., description="label of the mapped component in state A")
    component_b: str = Field(..., description="label of the mapped component in state B")
    pairs: tuple[tuple[int, int], ...] = Field(..., description="(atom index in A, atom index in B)")
    score: float | None = Field(None, description="mapping score in [0, 1], higher is better")

    @field_validator("pairs")
    @classmethod
    def _one_to_one(cls, pairs: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        a = [p[0] for p in pairs]
        b = [p[1] for p in pairs]
        if len(set(a)) != len(a) or len(set(b)) != len(b):
            raise ModelError("an atom mapping must be one-to-one (an atom appears in two pairs)")
        if any(i < 0 for i in a + b):
            raise ModelError("atom indices in a mapping must be >= 0")
        return tuple(sorted(pairs))


class Transformation(KeyedModel):
    """An edge of a network: ``state_a`` -> ``state_b`` simulated with ``protocol``."""

    name: str | None = Field(None, description="optional label; the key does not need it")
    state_a: ChemicalSystem
    state_b: ChemicalSystem
    protocol: str = Field(..., description="registered protocol name, e.g. 'absolute-hydration'")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="protocol settings; defaults filled in, units in field names"
    )
    mapping: AtomMapping | None = Field(None, description="atom mapping, for relative protocols")

    @model_validator(mode="before")
    @classmethod
    def _fill_settings(cls, data: Any) -> Any:
        if isinstance(data, dict) and "protocol" in data:
            data = dict(data)
            data["settings"] = normalise_settings(str(data["protocol"]), data.get("settings") or {})
        return data

    @model_validator(mode="after")
    def _distinct_states(self) -> Transformation:
        if self.state_a.key == self.state_b.key:
            raise ModelError(f"transformation {self.label!r}: state A and state B are the same system")
        if self.mapping is not None:
            for label, state in (
                (self.mapping.component_a, self.state_a),
                (self.mapping.component_b, self.state_b),
            ):
                if label not in state.components:
                    raise ModelError(
                        f"transformation {self.label!r}: mapping names component {label!r}, "
                        f"which system {state.name!r} does not have"
                    )
        return self

    @property
    def label(self) -> str:
        return self.name or f"{self.state_a.name} -> {self.state_b.name}"

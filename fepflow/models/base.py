"""Content-addressed, immutable models: the base class and the canonical JSON that keys are made from.

A key is ``<TypeName>-<sha256 of canonical JSON>``. The canonical form always writes every field
(so a default left out and the same default written out give one key), sorts object keys, and
replaces each child model by its own key, so a parent's key changes exactly when a child's does.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from fepflow.errors import ModelError

_REGISTRY: dict[str, type[KeyedModel]] = {}
REF = "@key"


def registered(type_name: str) -> type[KeyedModel]:
    """The model class serialised under ``type_name``."""
    try:
        return _REGISTRY[type_name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ModelError(f"unknown object type {type_name!r}; known types: {known}") from None


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 kept, NaN and infinity refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class KeyedModel(BaseModel):
    """An immutable model with a content key. Subclasses register themselves by class name."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, str_strip_whitespace=True)

    type_name: ClassVar[str] = "KeyedModel"
    _key: str | None = PrivateAttr(default=None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = cls.__name__
        _REGISTRY[cls.__name__] = cls

    @property
    def key(self) -> str:
        """``<TypeName>-<sha256 hex>`` of the canonical form; equal content gives an equal key."""
        if self._key is None:
            digest = hashlib.sha256(canonical_json(self.keyed_dict()).encode()).hexdigest()
            self._key = f"{self.type_name}-{digest}"
        return self._key

    def children(self) -> list[KeyedModel]:
        """Direct child models, in field order."""
        found: list[KeyedModel] = []
        for name in type(self).model_fields:
            _collect(getattr(self, name), found)
        return found

    def keyed_dict(self) -> dict[str, Any]:
        """Every field as JSON data, with each child model replaced by ``{"@key": child.key}``."""
        return {name: _encode(getattr(self, name)) for name in type(self).model_fields}

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyedModel):
            return NotImplemented
        return type(self) is type(other) and self.key == other.key


def _collect(value: Any, found: list[KeyedModel]) -> None:
    if isinstance(value, KeyedModel):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, found)


def _encode(value: Any) -> Any:
    if isinstance(value, KeyedModel):
        return {REF: value.key}
    if isinstance(value, BaseModel):
        return {name: _encode(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelError(f"non-finite number {value!r} cannot be part of a model")
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "value"):  # enums
        return value.value
    raise ModelError(f"cannot encode {type(value).__name__} value {value!r}")


def decode_refs(value: Any, resolve: Any) -> Any:
    """Inverse of the child encoding: replace each ``{"@key": k}`` by ``resolve(k)``."""
    if isinstance(value, dict):
        if set(value) == {REF}:
            return resolve(value[REF])
        return {k: decode_refs(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_refs(v, resolve) for v in value]
    return value

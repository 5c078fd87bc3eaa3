"""The settings a planned transformation carries: a protocol's preset (or defaults) with overrides."""

from __future__ import annotations

from typing import Any

from fepflow.models.protocol_registry import protocol_class


def protocol_settings(
    protocol: str, preset: str | None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The full settings of ``preset`` (or the protocol's defaults) with ``overrides`` merged in."""
    cls = protocol_class(protocol)
    if preset is None:
        return dict(cls(overrides or {}).settings.model_dump(mode="json"))
    return dict(cls.preset_settings(preset, **(overrides or {})))

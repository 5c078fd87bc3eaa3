"""Protocol names and their settings models, loaded on first use (no import-time side effects).

It lives with the model because a transformation normalises its protocol's settings when it is made;
the protocol modules are named here as strings, so the model never imports the protocols.

A transformation stores its protocol's settings with every default written out, so a setting left
out and the same default given explicitly produce one content key.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel, ValidationError

from fepflow.errors import ModelError

# protocol name -> "module:SettingsClass"
_PROTOCOLS: dict[str, str] = {
    "absolute-hydration": "fepflow.protocols.absolute.settings:AbsoluteHydrationSettings",
    "absolute-binding": "fepflow.protocols.absolute.binding_settings:AbsoluteBindingSettings",
    "harmonic-reference": "fepflow.protocols.harmonic:HarmonicReferenceSettings",
    "relative-hydration": "fepflow.protocols.relative.settings:RelativeHydrationSettings",
    "relative-binding": "fepflow.protocols.relative.settings:RelativeBindingSettings",
}


# protocol name -> "module:ProtocolClass"
_CLASSES: dict[str, str] = {
    "absolute-hydration": "fepflow.protocols.absolute.hydration:AbsoluteHydrationProtocol",
    "absolute-binding": "fepflow.protocols.absolute.binding:AbsoluteBindingProtocol",
    "harmonic-reference": "fepflow.protocols.harmonic:HarmonicReferenceProtocol",
    "relative-hydration": "fepflow.protocols.relative.hydration:RelativeHydrationProtocol",
    "relative-binding": "fepflow.protocols.relative.binding:RelativeBindingProtocol",
}


def known_protocols() -> list[str]:
    return sorted(_PROTOCOLS)


def register_protocol(name: str, settings_path: str, class_path: str | None = None) -> None:
    """Make ``name`` known, with its settings (and protocol) classes given as ``"module:Class"``."""
    _PROTOCOLS[name] = settings_path
    if class_path:
        _CLASSES[name] = class_path


def _load(path: str) -> Any:
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def protocol_class(protocol: str) -> Any:
    """The Protocol subclass that runs ``protocol`` (imported on first use)."""
    if protocol not in _CLASSES:
        raise ModelError(f"no runnable protocol {protocol!r}; runnable: {', '.join(sorted(_CLASSES))}")
    return _load(_CLASSES[protocol])


def settings_class(protocol: str) -> type[BaseModel]:
    try:
        path = _PROTOCOLS[protocol]
    except KeyError:
        raise ModelError(
            f"unknown protocol {protocol!r}; known protocols: {', '.join(known_protocols())}"
        ) from None
    cls = _load(path)
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise TypeError(f"{path} is not a pydantic settings model")
    return cls


def normalise_settings(protocol: str, settings: dict[str, Any] | BaseModel) -> dict[str, Any]:
    """Validate ``settings`` for ``protocol`` and return them with every default filled in."""
    cls = settings_class(protocol)
    try:
        model = (
            settings
            if isinstance(settings, cls)
            else cls.model_validate(settings.model_dump() if isinstance(settings, BaseModel) else settings)
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(settings)'}: {err['msg']}" for err in exc.errors()
        )
        raise ModelError(f"invalid settings for protocol {protocol!r}: {problems}") from None
    return model.model_dump(mode="json")

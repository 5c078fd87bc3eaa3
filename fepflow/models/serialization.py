"""JSON in which every model is written once, however many parents share it.

    {"format": "fepflow/1", "root": "<key>", "objects": {"<key>": {"type": "...", "data": {...}}}}

Children inside ``data`` are ``{"@key": "<key>"}``. Reading checks each object's key against its
content, so a hand-edited file cannot smuggle in an object under another object's key.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from fepflow.models.base import KeyedModel, ModelError, decode_refs, registered

FORMAT = "fepflow/1"


def to_dict(root: KeyedModel) -> dict[str, Any]:
    """The shared-children form of ``root`` as plain JSON data."""
    objects: dict[str, dict[str, Any]] = {}
    stack = [root]
    while stack:
        obj = stack.pop()
        if obj.key in objects:
            continue
        objects[obj.key] = {"type": obj.type_name, "data": obj.keyed_dict()}
        stack.extend(obj.children())
    return {"format": FORMAT, "root": root.key, "objects": dict(sorted(objects.items()))}


def to_json(root: KeyedModel, indent: int | None = None) -> str:
    return json.dumps(to_dict(root), indent=indent, ensure_ascii=False, allow_nan=False)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ModelError(f"malformed JSON: the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def loads_strict(text: str | bytes) -> Any:
    """``json.loads`` that refuses duplicate keys and NaN, with errors that say where."""

    def _refuse(constant: str) -> Any:
        raise ModelError(f"malformed JSON: {constant} is not a number JSON allows")

    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse)
    except json.JSONDecodeError as exc:
        raise ModelError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def from_dict(doc: dict[str, Any]) -> KeyedModel:
    """Rebuild the root model; a shared child becomes one Python object shared by its parents."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelError(f"not a fepflow document: expected format {FORMAT!r}")
    objects = doc.get("objects")
    root = doc.get("root")
    if not isinstance(objects, dict) or not isinstance(root, str):
        raise ModelError("a fepflow document needs 'root' (a key) and 'objects' (key -> object)")
    built: dict[str, KeyedModel] = {}
    resolving: set[str] = set()

    def resolve(key: str) -> KeyedModel:
        if key in built:
            return built[key]
        if key not in objects:
            raise ModelError(f"object {key} is referred to but not included in the document")
        if key in resolving:
            raise ModelError(f"object {key} refers to itself")
        resolving.add(key)
        entry = objects[key]
        if not isinstance(entry, dict) or "type" not in entry or "data" not in entry:
            raise ModelError(f"object {key} needs 'type' and 'data'")
        cls = registered(str(entry["type"]))
        try:
            obj = cls.model_validate(decode_refs(entry["data"], resolve))
        except ValidationError as exc:
            raise ModelError(f"object {key} ({entry['type']}) is invalid: {exc}") from None
        if obj.key != key:
            raise ModelError(f"object stored under {key} has content whose key is {obj.key}")
        resolving.discard(key)
        built[key] = obj
        return obj

    return resolve(root)


def from_json(text: str | bytes) -> KeyedModel:
    return from_dict(loads_strict(text))

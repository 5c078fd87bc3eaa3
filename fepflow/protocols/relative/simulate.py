"""The simulate units of the relative protocols: one multistate run of a hybrid leg, resumable and extendable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fepflow.engine.checkpoint import read_sidecar
from fepflow.engine.equilibration import prepare_start
from fepflow.engine.sampling import SamplingOutcome, run_multistate
from fepflow.hybrid.states import hybrid_states
from fepflow.protocols.base import Report, RunContext
from fepflow.protocols.common.setup import SETUP_FOLDER, load_leg
from fepflow.protocols.common.simulate import leg_platform, precision_check, sampler_config
from fepflow.protocols.relative.settings import RelativeSettings


def simulate_leg(
    run: RunContext,
    leg_name: str,
    lambdas: Sequence[Any],
    settings: RelativeSettings,
    progress: Report | None = None,
) -> SamplingOutcome:
    """Run, resume or extend one hybrid leg over ``lambdas`` (the setup's); its storage is
    ``<workdir>/<leg>.nc``.

    The start is minimised and equilibrated at the *middle* window, where both ligands' unique atoms
    have their Lennard-Jones on (and no charge): solvent and protein make room for both groups. At
    lambda 0 the unique-B atoms do not interact, so water or side chains settle onto them there, and
    replicas started from such a structure blow up at lambda 1 (seen with benzene -> toluene in
    T4 lysozyme).
    """
    leg = load_leg(run.workdir / SETUP_FOLDER, leg_name)
    pressure = settings.thermo.pressure_bar if leg.periodic else None
    states = hybrid_states(leg.system, lambdas, settings.thermo.temperature_K, pressure)
    storage = run.workdir / f"{leg_name}.nc"
    chosen = leg_platform(leg.system.getNumParticles(), leg.periodic, run.platform)
    config = sampler_config(settings.simulation)
    positions, box = leg.positions(), leg.box_vectors()
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
        extend_iterations=run.extend_iterations,
        progress=progress,
        stop_check=precision_check(settings.simulation, settings.thermo.temperature_K),
    )

"""The simulate units of the absolute hydration protocol: one multistate run per leg, resumable and extendable."""

from __future__ import annotations

from fepflow.engine.alchemical import build_alchemical_states
from fepflow.engine.sampling import SamplingOutcome, run_multistate
from fepflow.protocols.absolute.settings import AbsoluteHydrationSettings
from fepflow.protocols.base import Report, RunContext
from fepflow.protocols.common.setup import SETUP_FOLDER, load_leg
from fepflow.protocols.common.simulate import leg_platform, precision_check, sampler_config


def simulate_leg(
    run: RunContext, leg_name: str, settings: AbsoluteHydrationSettings, progress: Report | None = None
) -> SamplingOutcome:
    """Run, resume or extend one leg; its storage is ``<workdir>/<leg>.nc``."""
    leg = load_leg(run.workdir / SETUP_FOLDER, leg_name)
    pressure = settings.thermo.pressure_bar if leg.periodic else None
    alchemical = build_alchemical_states(
        leg.system,
        leg.ligand_atoms,
        settings.lambdas.electrostatics,
        settings.lambdas.sterics,
        settings.thermo.temperature_K,
        pressure,
    )
    return run_multistate(
        alchemical.states,
        leg.positions(),
        run.workdir / f"{leg_name}.nc",
        sampler_config(settings.simulation),
        leg_platform(leg.system.getNumParticles(), leg.periodic, run.platform),
        box_vectors=leg.box_vectors(),
        extend_iterations=run.extend_iterations,
        progress=progress,
        stop_check=precision_check(settings.simulation, settings.thermo.temperature_K),
    )

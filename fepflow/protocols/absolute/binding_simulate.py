"""The simulate units of the absolute binding protocol: the restrained complex leg and the solvent leg,
each one multistate run, resumable and extendable."""

from __future__ import annotations

from typing import Any

from fepflow.engine.sampling import SamplingOutcome, run_multistate
from fepflow.protocols.absolute.binding_settings import AbsoluteBindingSettings
from fepflow.protocols.base import Report, RunContext
from fepflow.protocols.common.setup import SETUP_FOLDER, Leg, load_leg
from fepflow.protocols.common.simulate import leg_platform, sampler_config


def leg_states(leg: Leg, settings: AbsoluteBindingSettings) -> list[Any]:
    """The thermodynamic states of a leg: restrained decoupling in the complex, plain in water."""
    from fepflow.engine.alchemical import build_alchemical_states
    from fepflow.restraints import BoreschGeometry
    from fepflow.restraints.states import restrained_alchemical_states

    temperature, pressure = settings.thermo.temperature_K, settings.thermo.pressure_bar
    if leg.name == "complex":
        schedule = settings.complex_lambdas
        return restrained_alchemical_states(
            leg.system,
            leg.ligand_atoms,
            BoreschGeometry.from_dict(leg.record["restraint"]),
            schedule.restraints,
            schedule.electrostatics,
            schedule.sterics,
            temperature,
            pressure,
        )
    lambdas = settings.solvent_lambdas
    return build_alchemical_states(
        leg.system, leg.ligand_atoms, lambdas.electrostatics, lambdas.sterics, temperature, pressure
    ).states


def simulate_leg(
    run: RunContext, leg_name: str, settings: AbsoluteBindingSettings, progress: Report | None = None
) -> SamplingOutcome:
    """Run, resume or extend one leg; its storage is ``<workdir>/<leg>.nc``."""
    leg = load_leg(run.workdir / SETUP_FOLDER, leg_name)
    config = sampler_config(settings.simulation)
    if leg_name == "complex":  # it starts where the restraint's NPT run of state 0's Hamiltonian ended
        config = config.model_copy(update={"minimize": False})
    return run_multistate(
        leg_states(leg, settings),
        leg.positions(),
        run.workdir / f"{leg_name}.nc",
        config,
        leg_platform(leg.system.getNumParticles(), leg.periodic, run.platform),
        box_vectors=leg.box_vectors(),
        extend_iterations=run.extend_iterations,
        progress=progress,
    )

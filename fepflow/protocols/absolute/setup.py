"""The setup unit of the absolute hydration protocol: ligand parameters and the two legs' OpenMM systems.

Outputs go to ``<workdir>/setup/`` with a ``done.json`` marker written last
(:func:`fepflow.protocols.common.setup.run_once`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fepflow.chemistry import build_implicit, build_vacuum
from fepflow.models.components import SmallMoleculeComponent
from fepflow.protocols.absolute.settings import AbsoluteHydrationSettings
from fepflow.protocols.base import RunContext
from fepflow.protocols.common.bundle import write_atomic
from fepflow.protocols.common.setup import build_water_box, ligand_parameters, run_once, save_built_leg

LEGS = ("solvent", "vacuum")


def run_setup(
    run: RunContext, ligand: SmallMoleculeComponent, settings: AbsoluteHydrationSettings
) -> dict[str, Any]:
    """Parameterise the ligand and build both legs (in state A's solvent), unless a finished setup is
    already on disk."""
    solvent = run.transformation.state_a.solvent
    system_settings = settings.system
    implicit = system_settings.solvent_model == "obc2"

    def build(folder: Path) -> dict[str, Any]:
        params = ligand_parameters(
            ligand, system_settings, cache_dir=run.cache_dir, given=run.ligand_parameters
        )
        write_atomic(folder / "ligand_parameters.json", json.dumps(params.to_dict()))
        hmr = settings.simulation.hydrogen_mass_amu
        if implicit:
            solvated = build_implicit(params, hydrogen_mass_amu=hmr, solvent="obc2")
        else:
            solvated = build_water_box(params, solvent, system_settings, hmr)
        vacuum = build_vacuum(params, hydrogen_mass_amu=hmr)
        save_built_leg(folder, "solvent", solvated)
        save_built_leg(folder, "vacuum", vacuum)
        return {
            "ligand": ligand.name,
            "ligand_key": ligand.key,
            "net_charge": params.net_charge,
            "forcefield": params.forcefield,
            "charge_method": params.charge_method,
            "parameter_provenance": params.provenance,
            "solvent_leg": solvated.description,
            "vacuum_leg": vacuum.description,
            "solvent_atoms": solvated.system.getNumParticles(),
            "implicit_solvent": implicit,
        }

    return run_once(run.workdir, build)

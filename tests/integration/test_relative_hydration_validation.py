"""Validation at ``fast`` length: ΔΔG_hyd(ethane -> methanol) from the hybrid agrees with the difference
of the two absolute hydration free energies (same published FreeSolv GAFF parameters, same TIP3P
model, same sampling length per window) within their combined 2σ.

Cost on one CPU thread here: about 15 minutes per calculation (three of them); minutes on a GPU.
The figures are printed (``pytest -s``) and written to ``validation.json`` in the test's folder.

Measured here (FEPFLOW_VALIDATION_ITERATIONS=25, i.e. half the fast length; CPU, one thread, shared
2-core machine, 27.7 min in all): relative -4.77 ± 0.42 kcal/mol; absolute ethane 3.22 ± 0.46,
methanol -2.45 ± 0.64, difference -5.68 ± 0.79; deviation 1.0 combined σ. FreeSolv's published GAFF
difference is -5.95, experiment -6.93.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from fepflow.data.freesolv import entry, published_parameters
from fepflow.models import ChemicalSystem, SmallMoleculeComponent, SolventComponent, Transformation
from fepflow.planning import plan_network
from fepflow.protocols.absolute.hydration import AbsoluteHydrationProtocol
from fepflow.protocols.relative.hydration import FAST, RelativeHydrationProtocol

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.validation]

PAIR = ("ethane", "methanol")
THREADS = 1
ITERATIONS = int(os.environ.get("FEPFLOW_VALIDATION_ITERATIONS", "0")) or None
"""Shorter runs on request (iterations per window); the ``fast`` preset's 50 otherwise."""


def simulation_settings() -> dict:
    sim = dict(FAST["simulation"])
    if ITERATIONS:
        sim["production_iterations"] = ITERATIONS
    return sim


def absolute_fast_explicit() -> dict:
    """The absolute protocol at the relative ``fast`` preset's length, in the same explicit water."""
    return AbsoluteHydrationProtocol.preset_settings(
        "production", simulation=simulation_settings(), system=dict(FAST["system"]), repeats=1
    )


@pytest.mark.timeout(3 * 3600)
def test_relative_matches_absolute_difference(tmp_path: Path) -> None:
    params = {name: published_parameters(name) for name in PAIR}
    ligands = [SmallMoleculeComponent.from_smiles(entry(n).smiles, n) for n in PAIR]
    settings = RelativeHydrationProtocol.preset_settings("fast", simulation=simulation_settings())
    (edge,) = plan_network(ligands, edges=[PAIR], settings=settings).edges
    relative = RelativeHydrationProtocol.for_transformation(edge).run_task(
        edge,
        repeat=0,
        workdir=tmp_path / "relative",
        platform="CPU",
        threads=THREADS,
        ligand_parameters=params,
    )
    absolute = {}
    abs_settings = absolute_fast_explicit()
    for lig in ligands:
        solvated = ChemicalSystem(name=lig.name, components={"ligand": lig, "solvent": SolventComponent()})
        solvent = ChemicalSystem(name="solvent", components={"solvent": SolventComponent()})
        transformation = Transformation(
            state_a=solvated, state_b=solvent, protocol="absolute-hydration", settings=abs_settings
        )
        absolute[lig.name] = (
            AbsoluteHydrationProtocol.for_transformation(transformation)
            .run_task(
                transformation,
                repeat=0,
                workdir=tmp_path / lig.name,
                platform="CPU",
                threads=THREADS,
                ligand_parameters=params[lig.name],
            )
            .summary.to_stored()
        )
    a, b = absolute[PAIR[0]], absolute[PAIR[1]]
    difference = b["dg_kcal_mol"] - a["dg_kcal_mol"]
    rel = relative.summary.to_stored()
    sigma = math.sqrt(
        rel["dg_mbar_error_kcal_mol"] ** 2
        + a["dg_mbar_error_kcal_mol"] ** 2
        + b["dg_mbar_error_kcal_mol"] ** 2
    )
    figures = {
        "relative_ddg_kcal_mol": rel["dg_kcal_mol"],
        "relative_error_kcal_mol": rel["dg_mbar_error_kcal_mol"],
        "absolute_kcal_mol": {
            n: (s["dg_kcal_mol"], s["dg_mbar_error_kcal_mol"]) for n, s in absolute.items()
        },
        "absolute_difference_kcal_mol": difference,
        "combined_sigma_kcal_mol": sigma,
        "deviation_in_sigma": abs(rel["dg_kcal_mol"] - difference) / sigma,
        "freesolv_published_gaff_difference": entry(PAIR[1]).calc_gaff_kcal_mol
        - entry(PAIR[0]).calc_gaff_kcal_mol,
        "experimental_difference": entry(PAIR[1]).expt_kcal_mol - entry(PAIR[0]).expt_kcal_mol,
        "relative_timings_s": rel["timings"],
        "absolute_timings_s": {n: s["timings"] for n, s in absolute.items()},
        "relative_warnings": rel["warnings"],
        "iterations_per_window": settings["simulation"]["production_iterations"],
    }
    (tmp_path / "validation.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures, indent=1))
    assert abs(rel["dg_kcal_mol"] - difference) <= 2.0 * sigma

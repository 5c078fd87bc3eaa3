"""The relative hydration protocol end to end at smoke length: ethane -> methanol, TIP3P and vacuum.

Published FreeSolv GAFF parameters (tleap only, no sqm) and the ``smoke`` preset: this checks the
mechanics (setup, both legs, resume, analysis, bundle, gather), not the free energy.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from fepflow.data.freesolv import published_parameters
from fepflow.models import SmallMoleculeComponent
from fepflow.models.protocol_registry import protocol_class
from fepflow.planning import plan_network
from fepflow.protocols.base import ProtocolError
from fepflow.protocols.relative.hydration import RelativeHydrationProtocol

SMOKE = RelativeHydrationProtocol.preset_settings("smoke")


def test_relative_hydration_smoke(tmp_path: Path) -> None:
    ligands = [
        SmallMoleculeComponent.from_smiles("CC", "ethane"),
        SmallMoleculeComponent.from_smiles("CO", "methanol"),
    ]
    network = plan_network(ligands, edges=[("ethane", "methanol")], settings=SMOKE)
    (edge,) = network.edges
    cls = protocol_class("relative-hydration")
    assert cls is RelativeHydrationProtocol
    protocol = cls.for_transformation(edge)
    params = {name: published_parameters(name) for name in ("ethane", "methanol")}
    result = protocol.run_task(
        edge, repeat=0, workdir=tmp_path / "task", platform="CPU", threads=1, ligand_parameters=params
    )
    summary = result.summary.to_stored()
    assert math.isfinite(summary["dg_kcal_mol"]) and summary["dg_mbar_error_kcal_mol"] >= 0
    assert summary["legs"]["solvent"]["n_states"] == 3 and summary["legs"]["vacuum"]["n_iterations"] == 4
    assert summary["setup"]["n_windows"] == 3
    # ethane -> methanol swaps a CH3 for an OH: the hybrid's solvent leg has both, and a dispersion term
    assert summary["dispersion_correction_kcal_mol"] != 0.0 and summary["mean_volume_nm3"] > 1.2**3
    assert {"summary.json", "energies.npz", "mapping.svg", "solvent_overlap.png"} <= set(result.files)
    on_disk = json.loads((tmp_path / "task" / "bundle" / "summary.json").read_text())
    assert on_disk["dg_kcal_mol"] == pytest.approx(summary["dg_kcal_mol"])
    # a second call finds everything done and returns the same numbers
    again = protocol.run_task(
        edge, repeat=0, workdir=tmp_path / "task", platform="CPU", threads=1, ligand_parameters=params
    )
    assert again.summary.dg_kcal_mol == pytest.approx(summary["dg_kcal_mol"])
    # extending resumes both legs from storage (the hybrid's lambda states deserialise)
    extended = protocol.run_task(
        edge,
        repeat=0,
        workdir=tmp_path / "task",
        platform="CPU",
        threads=1,
        ligand_parameters=params,
        extend_iterations=1,
    )
    assert extended.summary.legs["solvent"].n_iterations == 5
    assert extended.summary.legs["solvent"].resumed is True
    estimate = RelativeHydrationProtocol.gather([result.summary])
    assert estimate.dg_kcal_mol == pytest.approx(summary["dg_kcal_mol"]) and estimate.n_repeats == 1


def test_validation_errors() -> None:
    ligands = [
        SmallMoleculeComponent.from_smiles("CC", "ethane"),
        SmallMoleculeComponent.from_smiles("CO", "methanol"),
    ]
    (edge,) = plan_network(ligands, edges=[("ethane", "methanol")]).edges
    with pytest.raises(ProtocolError, match="explicit TIP3P"):
        RelativeHydrationProtocol({"system": {"solvent_model": "obc2"}}).validate(edge)
    no_mapping = edge.model_copy(update={"mapping": None})
    with pytest.raises(ProtocolError, match="no atom mapping"):
        RelativeHydrationProtocol().validate(no_mapping)
    fast = RelativeHydrationProtocol.from_preset("fast")
    assert fast.settings.simulation.production_iterations == 50
    assert (
        RelativeHydrationProtocol.from_preset("production").settings.simulation.production_iterations == 5000
    )

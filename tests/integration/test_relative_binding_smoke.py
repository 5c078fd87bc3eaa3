"""The relative binding protocol at smoke length: benzene -> toluene in T4 lysozyme L99A and in water.

Both legs run the ``smoke`` preset on the CPU (mechanics, not a free energy): setup with tleap
(ff14SB protein, published GAFF ligands), hybrid, sampling, analysis, and ΔΔG = complex - solvent
from the network's two transformations. The protein is openmmtools' packaged T4L99A structure;
benzene is posed on the packaged p-xylene's ring.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from fepflow.analysis.network import edges_from_estimates
from fepflow.chemistry.mol2 import parse_mol2
from fepflow.data import t4l99a
from fepflow.data.freesolv import published_parameters
from fepflow.models import SmallMoleculeComponent
from fepflow.models.protocol_registry import protocol_class
from fepflow.planning import plan_network
from fepflow.protocols.base import ProtocolError
from fepflow.protocols.relative.binding import RelativeBindingProtocol

SMOKE = RelativeBindingProtocol.preset_settings("smoke")


def posed_benzene() -> SmallMoleculeComponent:
    own = np.array([a.position for a in parse_mol2(published_parameters("benzene").mol2).atoms])
    return t4l99a.posed_benzene(own)


@pytest.mark.timeout(1200)
def test_relative_binding_smoke(tmp_path: Path) -> None:
    protein = t4l99a.protein()
    ligands = [posed_benzene(), SmallMoleculeComponent.from_smiles("Cc1ccccc1", "toluene")]
    network = plan_network(ligands, edges=[("benzene", "toluene")], protein=protein, settings=SMOKE)
    assert protocol_class("relative-binding") is RelativeBindingProtocol
    params = {n: published_parameters(n) for n in ("benzene", "toluene")}
    estimates = {}
    for edge in network.edges:
        protocol = RelativeBindingProtocol.for_transformation(edge)
        leg = RelativeBindingProtocol.leg_of(edge)
        started = time.monotonic()
        result = protocol.run_task(
            edge, repeat=0, workdir=tmp_path / edge.key, platform="CPU", threads=1, ligand_parameters=params
        )
        summary = result.summary.to_stored()
        # the bundle holds the task's log and the timings of its units, like every protocol's
        assert "task.log" in result.files and result.files["task.log"].stat().st_size > 0
        assert set(summary["timings"]) == {"setup_s", f"{leg}_s", "analyse_s", "total_s"}
        print(
            f"{leg} leg: {summary['setup']['legs'][leg]['atoms']} atoms, {time.monotonic() - started:.0f} s"
        )
        assert summary["leg"] == leg and math.isfinite(summary["dg_kcal_mol"])
        assert summary["legs"][leg]["n_states"] == 3
        estimates[edge.key] = (summary["dg_kcal_mol"], summary["dg_mbar_error_kcal_mol"])
    (ddg,) = edges_from_estimates(network, estimates)
    assert (ddg.a, ddg.b) == ("benzene", "toluene") and math.isfinite(ddg.dg)


def test_complex_leg_needs_a_posed_ligand() -> None:
    protein = t4l99a.protein()
    ligands = [
        SmallMoleculeComponent.from_smiles(s, n)
        for n, s in (("benzene", "c1ccccc1"), ("toluene", "Cc1ccccc1"))
    ]
    network = plan_network(ligands, edges=[("benzene", "toluene")], protein=protein)
    complex_edge = next(e for e in network.edges if e.state_a.protein is not None)
    with pytest.raises(ProtocolError, match="posed in the protein's frame"):
        RelativeBindingProtocol().validate(complex_edge)
    solvent_edge = next(e for e in network.edges if e.state_a.protein is None)
    RelativeBindingProtocol().validate(solvent_edge)

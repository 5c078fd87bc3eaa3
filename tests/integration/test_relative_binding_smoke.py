"""The relative binding protocol at smoke length: benzene -> toluene in T4 lysozyme L99A and in water.

Both legs run a few iterations on the CPU (mechanics, not a free energy): setup with tleap
(ff14SB protein, published GAFF ligands), hybrid, sampling, analysis, and ΔΔG = complex - solvent
from the network's two transformations. The protein is openmmtools' packaged T4L99A structure;
benzene is posed on the packaged p-xylene's ring.
"""

from __future__ import annotations

import math
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from rdkit.Chem import rdchem
from rdkit.Geometry import Point3D

from fepflow.analysis.network import edges_from_estimates
from fepflow.chemistry.mol2 import parse_mol2
from fepflow.data.freesolv import published_parameters
from fepflow.models import ProteinComponent, SmallMoleculeComponent
from fepflow.planning import plan_network
from fepflow.protocols.base import ProtocolError
from fepflow.protocols.registry import protocol_class
from fepflow.protocols.relative_binding import RelativeBindingProtocol

DATA = resources.files("openmmtools") / "data" / "T4-lysozyme-L99A-implicit"
SMOKE = {
    "lambdas": {"windows": 3},
    "simulation": {
        "timestep_fs": 2.0,
        "hydrogen_mass_amu": None,
        "steps_per_iteration": 5,
        "equilibration_ps": 0.02,
        "production_iterations": 2,
        "checkpoint_interval_iterations": 1,
        "minimize_max_iterations": 500,
    },
    "system": {"solvent_padding_nm": 0.6, "nonbonded_cutoff_nm": 0.8},
    "repeats": 1,
}


def posed_benzene() -> SmallMoleculeComponent:
    """Benzene on the packaged p-xylene's ring, the H that toluene's methyl replaces on a xylene methyl."""
    from rdkit import Chem

    from fepflow.hybrid.positions import superpose
    from fepflow.mapping import map_ligands

    plain = SmallMoleculeComponent.from_smiles("c1ccccc1", "benzene")
    mol = plain.to_rdkit()
    mapped = dict(map_ligands(plain, SmallMoleculeComponent.from_smiles("Cc1ccccc1", "toluene")).pairs)
    lost_h = next(a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 1 and a.GetIdx() not in mapped)
    start = mol.GetAtomWithIdx(lost_h).GetNeighbors()[0].GetIdx()
    ring = list(next(r for r in mol.GetRingInfo().AtomRings() if start in r))
    k = ring.index(start)
    ring = ring[k:] + ring[:k]
    xyz = np.array([a.position for a in parse_mol2(published_parameters("benzene").mol2).atoms])
    atoms = {
        line[12:16].strip(): line
        for line in (DATA / "ligand.pdb").read_text().splitlines()
        if line.startswith("ATOM")
    }
    # p-xylene ring in bond order, starting at the carbon that carries methyl C4
    xylene = np.array(
        [[float(atoms[n][c : c + 8]) for c in (30, 38, 46)] for n in ("C1", "C2", "C5", "C7", "C6", "C3")]
    )
    for order in (ring, [ring[0], *reversed(ring[1:])]):
        rot, shift = superpose(xyz[order], xylene)
        if np.sqrt(np.mean(np.sum((xyz[order] @ rot.T + shift - xylene) ** 2, axis=1))) < 0.2:
            break
    xyz = xyz @ rot.T + shift
    conf = rdchem.Conformer(mol.GetNumAtoms())
    for i, (x, y, z) in enumerate(xyz):
        conf.SetAtomPosition(i, Point3D(float(x), float(y), float(z)))
    conf.Set3D(True)
    mol.AddConformer(conf, assignId=True)
    return SmallMoleculeComponent.from_mol_block(Chem.MolToMolBlock(mol), name="benzene")


@pytest.mark.timeout(1200)
def test_relative_binding_smoke(tmp_path: Path) -> None:
    protein = ProteinComponent.from_pdb((DATA / "receptor.pdb").read_text(), "T4 lysozyme L99A")
    ligands = [posed_benzene(), SmallMoleculeComponent.from_smiles("Cc1ccccc1", "toluene")]
    network = plan_network(ligands, edges=[("benzene", "toluene")], protein=protein, settings=SMOKE)
    assert protocol_class("relative-binding") is RelativeBindingProtocol
    params = {n: published_parameters(n) for n in ("benzene", "toluene")}
    estimates = {}
    for edge in network.edges:
        protocol = RelativeBindingProtocol.for_transformation(edge)
        started = time.monotonic()
        summary = protocol.run_task(
            edge, repeat=0, workdir=tmp_path / edge.key, platform="CPU", threads=1, ligand_parameters=params
        ).summary
        leg = RelativeBindingProtocol.leg_of(edge)
        print(f"{leg} leg: {summary['setup'][f'{leg}_atoms']} atoms, {time.monotonic() - started:.0f} s")
        assert summary["leg"] == leg and math.isfinite(summary["dg_leg_kcal_mol"])
        assert summary["legs"][leg]["n_states"] == 3
        estimates[edge.key] = (summary["dg_leg_kcal_mol"], summary["dg_leg_error_kcal_mol"])
    (ddg,) = edges_from_estimates(network, estimates)
    assert (ddg.a, ddg.b) == ("benzene", "toluene") and math.isfinite(ddg.dg)


def test_complex_leg_needs_a_posed_ligand() -> None:
    protein = ProteinComponent.from_pdb((DATA / "receptor.pdb").read_text(), "T4 lysozyme L99A")
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

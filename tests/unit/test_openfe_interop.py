"""Networks planned by openfe (gufe's JSON, keyed chain or nested) imported as fepflow networks, and
estimates exported in the TSV shapes of ``openfe gather``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from openfe_network import keyed_chain, network

from fepflow.interop.gufe_json import GufeFormatError
from fepflow.interop.openfe_import import import_network
from fepflow.interop.openfe_tsv import gather_tsv, to_precision
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent
from fepflow.models.network_results import EdgeEstimate, LigandEstimate, NetworkEstimates
from fepflow.models.serialization import from_json, to_json

LIGANDS = {"benzene": ("c1ccccc1", 1), "toluene": ("Cc1ccccc1", 2), "phenol": ("Oc1ccccc1", 3)}
PAIRS = [("benzene", "toluene"), ("benzene", "phenol")]


@pytest.fixture(scope="module")
def rbfe() -> tuple[dict, dict]:
    return network(PAIRS, LIGANDS, binding=True)


def test_a_binding_network_keeps_ligands_poses_mappings_protein_and_solvent(rbfe: tuple[dict, dict]) -> None:
    doc, mols = rbfe
    imported, report = import_network(json.dumps(keyed_chain(doc)))
    assert report.transformations == 4 and not report.left_out
    assert sorted(t.name for t in imported.edges) == [
        "benzene -> phenol (complex)",
        "benzene -> phenol (solvent)",
        "benzene -> toluene (complex)",
        "benzene -> toluene (solvent)",
    ]
    assert {t.protocol for t in imported.edges} == {"relative-binding"}
    for t in imported.edges:
        a = t.state_a.components["ligand"]
        b = t.state_b.components["ligand"]
        assert isinstance(a, SmallMoleculeComponent) and a.conformer is not None and b.conformer is not None
        assert a.smiles == SmallMoleculeComponent.from_smiles(LIGANDS[a.name][0]).smiles
        # openfe's mapping (the benzene ring) renumbered: the mapped atoms are where openfe's were
        gufe_a, gufe_b = (
            mols[a.name].GetConformer().GetPositions(),
            mols[b.name].GetConformer().GetPositions(),
        )
        assert len(t.mapping.pairs) == 6
        for i, j in t.mapping.pairs:
            assert np.min(np.linalg.norm(gufe_a - np.array(a.conformer[i]), axis=1)) < 1e-3
            assert np.min(np.linalg.norm(gufe_b - np.array(b.conformer[j]), axis=1)) < 1e-3
            assert (
                a.to_rdkit().GetAtomWithIdx(i).GetIsAromatic()
                and b.to_rdkit().GetAtomWithIdx(j).GetIsAromatic()
            )
        solvent = t.state_a.solvent
        assert solvent is not None and solvent.ion_concentration_molar == pytest.approx(0.15)
        assert solvent.water_model == "tip3p" and solvent.positive_ion == "Na+"
    complexes = [t for t in imported.edges if "complex" in (t.name or "")]
    protein = complexes[0].state_a.components["protein"]
    assert isinstance(protein, ProteinComponent) and protein.n_atoms == len(
        doc["edges"][0]["stateA"]["components"]["protein"]["atoms"]
    )
    assert protein.pdb.splitlines()[0][12:16] == " N  " and protein.pdb.splitlines()[0][17:20] == "MET"
    assert from_json(to_json(imported)).key == imported.key  # a valid fepflow/1 document


def test_settings_are_converted_or_reported(rbfe: tuple[dict, dict]) -> None:
    imported, report = import_network(json.dumps(keyed_chain(rbfe[0])))
    s = imported.edges[0].settings
    assert s["thermo"]["temperature_K"] == pytest.approx(298.15)
    assert s["thermo"]["pressure_bar"] == pytest.approx(1.0)
    assert s["simulation"]["timestep_fs"] == 4.0 and s["simulation"]["hydrogen_mass_amu"] == 3.0
    assert s["simulation"]["equilibration_ps"] == pytest.approx(1000.0)
    assert s["simulation"]["steps_per_iteration"] == 625  # 2.5 ps per iteration at 4 fs
    assert s["simulation"]["production_iterations"] == 2000  # 5 ns
    assert s["system"]["nonbonded_cutoff_nm"] == 1.0 and s["system"]["solvent_padding_nm"] == 1.5
    assert s["lambdas"] == {"windows": 11, "softcore_alpha": 0.85}
    assert s["repeats"] == 3
    assert "GAFF2" in report.not_carried["forcefield_settings.small_molecule_forcefield"]
    assert "solvation_settings.box_shape" in report.not_carried
    assert "output_settings.output_filename" in report.not_carried
    assert "engine_settings.compute_platform" in report.not_carried
    assert "forcefield_settings.constraints" in report.carried
    lines = report.lines()
    assert lines[0] == "4 transformations imported from RelativeHybridTopologyProtocol"
    assert any(
        line.startswith("NOT carried over: forcefield_settings.small_molecule_forcefield") for line in lines
    )


def test_nested_and_keyed_chain_documents_import_alike(rbfe: tuple[dict, dict]) -> None:
    nested, _ = import_network(json.dumps(rbfe[0]))
    chained, _ = import_network(json.dumps(keyed_chain(rbfe[0])))
    assert nested.key == chained.key


def test_a_hydration_network_leaves_the_vacuum_legs_to_fepflow() -> None:
    doc, _ = network(PAIRS[:1], LIGANDS, binding=False)
    imported, report = import_network(json.dumps(keyed_chain(doc)))
    assert [t.protocol for t in imported.edges] == ["relative-hydration"]
    assert imported.edges[0].name == "benzene -> toluene"
    assert len(report.left_out) == 1 and "vacuum" in report.left_out[0]


def test_what_cannot_be_imported_is_refused_clearly() -> None:
    doc, _ = network(PAIRS[:1], LIGANDS, binding=False, protocol="AbsoluteSolvationProtocol")
    with pytest.raises(GufeFormatError, match="AbsoluteSolvationProtocol has no fepflow counterpart"):
        import_network(json.dumps(doc))
    doc, _ = network(PAIRS[:1], LIGANDS, binding=False)
    doc["edges"][0]["stateA"]["components"]["ligand"]["molprops"] = {}
    with pytest.raises(GufeFormatError, match="no name"):
        import_network(json.dumps(doc))
    with pytest.raises(GufeFormatError, match="not JSON"):
        import_network("{")
    with pytest.raises(GufeFormatError, match="does not hold"):
        import_network(json.dumps([["AlchemicalNetwork-x", {"nodes": [], "edges": [{":gufe-key:": "T-1"}]}]]))


ESTIMATES = NetworkEstimates(
    network="AlchemicalNetwork-" + "0" * 64,
    protocol="relative-binding",
    ligands=[
        LigandEstimate(ligand="benzene", dg_kcal_mol=0.9312, uncertainty_kcal_mol=0.213),
        LigandEstimate(ligand="toluene", dg_kcal_mol=12.34567, uncertainty_kcal_mol=0.0123),
        LigandEstimate(ligand="phenol"),
    ],
    edges=[
        EdgeEstimate(ligand_a="benzene", ligand_b="toluene", ddg_kcal_mol=-1.26, uncertainty_kcal_mol=0.31),
        EdgeEstimate(ligand_a="benzene", ligand_b="phenol"),
    ],
)


def test_gather_tsv_has_openfe_columns_and_precision() -> None:
    assert to_precision(12.34567, 0.0123) == ("12.35", "0.01")  # openfe's documented example
    assert to_precision(0.9312, 0.213) == ("0.9", "0.2")
    assert gather_tsv(ESTIMATES, "dg").splitlines() == [
        "ligand\tDG(MLE) (kcal/mol)\tuncertainty (kcal/mol)",
        "benzene\t0.9\t0.2",
        "toluene\t12.35\t0.01",
        "phenol\tError\tError",
    ]
    assert gather_tsv(ESTIMATES, "ddg").splitlines() == [
        "ligand_i\tligand_j\tDDG(i->j) (kcal/mol)\tuncertainty (kcal/mol)",
        "benzene\ttoluene\t-1.3\t0.3",
        "benzene\tphenol\tError\tError",
    ]
    with pytest.raises(ValueError, match="report must be"):
        gather_tsv(ESTIMATES, "raw")


def test_piped_output_at_80_columns_keeps_the_whole_key_on_its_line(
    rbfe: tuple[dict, dict], tmp_path: Path
) -> None:
    """`fepflow import-openfe x.json | grep AlchemicalNetwork-` gets the whole 82-character key."""
    planned = tmp_path / "net.json"
    planned.write_text(json.dumps(keyed_chain(rbfe[0])))
    script = Path(sys.executable).parent / "fepflow"  # the console script; the app itself without one
    fepflow = (
        [str(script)] if script.exists() else [sys.executable, "-c", "from fepflow.cli.app import app; app()"]
    )
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"}
    run = subprocess.run(
        [*fepflow, "import-openfe", str(planned)], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr
    keys = [line for line in run.stdout.splitlines() if line.startswith("AlchemicalNetwork-")]
    assert len(keys) == 1 and len(keys[0]) == 82, run.stdout
    assert from_json((tmp_path / "net.fepflow.json").read_text()).key == keys[0]
    assert "NOT carried over" in run.stderr and "NOT carried over" not in run.stdout

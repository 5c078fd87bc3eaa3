"""Protein-ligand complexes: T4 lysozyme L99A (openmmtools' packaged structure) with benzene, and
the hybrid benzene -> toluene in the complex; structures tleap cannot build fail with named residues."""

from __future__ import annotations

from importlib import resources

import numpy as np
import openmm
import pytest
from openmm import unit

from fepflow.chemistry import build_vacuum
from fepflow.chemistry.complexes import ComplexError, build_complex, chain_breaks
from fepflow.chemistry.mol2 import parse_mol2
from fepflow.data.freesolv import published_parameters
from fepflow.hybrid import build_hybrid, hybrid_positions, lambda_values
from fepflow.mapping import map_ligands
from fepflow.models import ProteinComponent, SmallMoleculeComponent

DATA = resources.files("openmmtools") / "data" / "T4-lysozyme-L99A-implicit"


def t4_pdb() -> str:
    return (DATA / "receptor.pdb").read_text()


def pocket_coordinates(params) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The ligand's own geometry moved onto the ring centre of the packaged p-xylene (Å)."""
    xyz = np.array([a.position for a in parse_mol2(params.mol2).atoms])
    lines = [line for line in (DATA / "ligand.pdb").read_text().splitlines() if line.startswith("ATOM")]
    ring = np.array([[float(line[30:38]), float(line[38:46]), float(line[46:54])] for line in lines[:7]])
    return xyz - xyz.mean(axis=0) + ring.mean(axis=0)


def energy(system: openmm.System, x: np.ndarray, box, values=None) -> float:  # type: ignore[no-untyped-def]
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("CPU"))
    context.setPeriodicBoxVectors(*box)
    context.setPositions(x * unit.nanometer)
    for name, value in (values or {}).items():
        context.setParameter(name, value)
    return float(context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))


def test_t4_lysozyme_benzene_complex_and_its_hybrid() -> None:
    protein = ProteinComponent.from_pdb(t4_pdb(), "T4 lysozyme L99A")
    benzene = published_parameters("benzene")
    built = build_complex(
        protein, benzene, ligand_coordinates_angstrom=pocket_coordinates(benzene), padding_nm=0.8
    )
    system = built.system
    assert len(built.ligand_atoms) == 12
    assert built.ligand_atoms == list(range(protein.n_atoms, protein.n_atoms + 12))  # after the protein
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    charge = sum(
        nb.getParticleParameters(i)[0].value_in_unit(unit.elementary_charge)
        for i in range(nb.getNumParticles())
    )
    assert charge == pytest.approx(0.0, abs=1e-3)  # neutralised
    assert "Cl-" in built.description
    x = np.asarray(built.positions.value_in_unit(unit.nanometer))
    box = system.getDefaultPeriodicBoxVectors()
    e_complex = energy(system, x, box)
    assert np.isfinite(e_complex)

    # benzene -> toluene in the complex: at lambda 0 the hybrid is the real complex plus toluene's
    # dummy methyl valence; the dispersion correction is applied afterwards (coefficients)
    toluene = build_vacuum(published_parameters("toluene"), constraints="HBonds", hydrogen_mass_amu=3.0)
    mapping = map_ligands(
        SmallMoleculeComponent.from_smiles("c1ccccc1", "benzene"),
        SmallMoleculeComponent.from_smiles("Cc1ccccc1", "toluene"),
    )
    hybrid = build_hybrid(system, built.ligand_atoms, toluene.system, mapping.pairs)
    assert hybrid.dispersion_coefficients is not None
    xh = hybrid_positions(x, np.asarray(toluene.positions.value_in_unit(unit.nanometer)), hybrid.atoms)
    e0 = energy(hybrid.system, xh, box, lambda_values(0.0))
    volume = (box[0][0] * box[1][1] * box[2][2]).value_in_unit(unit.nanometer**3)
    lrc_a = hybrid.dispersion_coefficients[0] / volume
    dummy = e0 - (e_complex - lrc_a)  # the dummy methyl's own bonds, angles, torsions: small, positive-ish
    assert abs(dummy) < 100.0, dummy
    assert np.isfinite(energy(hybrid.system, xh, box, lambda_values(1.0)))


def test_missing_residues_are_named() -> None:
    lines = t4_pdb().splitlines()
    kept = [
        line for line in lines if not (line.startswith("ATOM") and line[22:26].strip() in {"10", "11", "12"})
    ]
    gapped = "\n".join(kept)
    assert chain_breaks(gapped) == ["ILE 9 - LEU 13 (C-N 7.6 Å)"]
    protein = ProteinComponent.from_pdb(gapped, "T4 lysozyme with a gap")
    with pytest.raises(ComplexError, match=r"residues are missing from the structure between \S+ 9 - \S+ 13"):
        build_complex(protein, published_parameters("benzene"))
    assert chain_breaks(t4_pdb()) == []


def test_unknown_residue_is_named() -> None:
    lines = [
        line[:17] + "XYZ" + line[20:] if line.startswith("ATOM") and line[22:26].strip() == "5" else line
        for line in t4_pdb().splitlines()
    ]
    protein = ProteinComponent.from_pdb("\n".join(lines), "T4 lysozyme with a strange residue")
    with pytest.raises(ComplexError, match=r"unknown residue XYZ \(residue 5 in file order\)$"):
        build_complex(protein, published_parameters("benzene"), padding_nm=0.5)

"""Protein-ligand complexes: T4 lysozyme L99A (openmmtools' packaged structure) with benzene, and
the hybrid benzene -> toluene in the complex, whose end states are checked against the real complexes
(lambda 1: toluene's own parameters in the same protein, water and ions); structures tleap cannot
build fail with named residues."""

from __future__ import annotations

import copy
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
    check_complex_end_states(system, toluene.system, hybrid, xh, box)


def reference_energy(system: openmm.System, x: np.ndarray, box, values=None) -> float:  # type: ignore[no-untyped-def]
    """Double-precision energy (kJ/mol) on the Reference platform."""
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    if box is not None:
        context.setPeriodicBoxVectors(*box)
    context.setPositions(x * unit.nanometer)
    for name, value in (values or {}).items():
        context.setParameter(name, value)
    return float(context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))


def kept_dummy_valence(system: openmm.System, hybrid, side: str, own: dict[int, int]) -> openmm.System:  # type: ignore[no-untyped-def]
    """``system``'s bonds, angles and torsions touching state ``side``'s unique atoms, less the terms
    the hybrid's dummy rules removed (``own``: hybrid index -> index in ``system``)."""
    unique = {own[h] for h in (hybrid.atoms.unique_a if side == "a" else hybrid.atoms.unique_b)}
    removed = {
        canonical(tuple(own[h] for h in term))
        for group in hybrid.dummy_groups
        if group.side == side
        for terms in group.removed.values()
        for term in terms
    }
    assert removed  # benzene's H and toluene's methyl both lose junction terms
    out = openmm.System()
    for i in range(system.getNumParticles()):
        out.addParticle(system.getParticleMass(i))
    for kind, n_atoms in (
        (openmm.HarmonicBondForce, 2),
        (openmm.HarmonicAngleForce, 3),
        (openmm.PeriodicTorsionForce, 4),
    ):
        new = kind()
        for force in (f for f in system.getForces() if isinstance(f, kind)):
            for n in range(_count(force)):
                p = _get(force, n)
                if set(p[:n_atoms]) & unique and canonical(tuple(p[:n_atoms])) not in removed:
                    _add(new, p)
        out.addForce(new)
    return out


def _count(force) -> int:  # type: ignore[no-untyped-def]
    for name in ("getNumBonds", "getNumAngles", "getNumTorsions"):
        if hasattr(force, name):
            return int(getattr(force, name)())
    raise TypeError(force)


def _get(force, n: int) -> list:  # type: ignore[no-untyped-def]
    for name in ("getBondParameters", "getAngleParameters", "getTorsionParameters"):
        if hasattr(force, name):
            return list(getattr(force, name)(n))
    raise TypeError(force)


def _add(force, p: list) -> None:  # type: ignore[no-untyped-def]
    for name in ("addBond", "addAngle", "addTorsion"):
        if hasattr(force, name):
            getattr(force, name)(*p)
            return
    raise TypeError(force)


def canonical(term: tuple[int, ...]) -> tuple[int, ...]:
    return min(tuple(term), tuple(term)[::-1])


def ligand_b_in_environment(
    system_a: openmm.System, atoms, ligand_b: openmm.System
) -> tuple[openmm.System, list[int]]:  # type: ignore[no-untyped-def]
    """The real state B: ligand B's own parameters (its vacuum system) in A's environment (A's
    parameters for every other particle), no dispersion correction; and the hybrid index of each of
    its particles. Built from the two systems and the index bookkeeping only, not by the hybrid code."""
    order = [h for h in range(atoms.n_hybrid) if h not in atoms.unique_a]
    new_of = {h: n for n, h in enumerate(order)}
    of_b = {j: new_of[h] for j, h in atoms.hybrid_of_b.items()}
    env = {h for h in order if atoms.kind(h) == "env"}
    out = openmm.System()
    out.setDefaultPeriodicBoxVectors(*system_a.getDefaultPeriodicBoxVectors())
    b_of = {h: j for j, h in atoms.hybrid_of_b.items()}
    for h in order:
        out.addParticle(system_a.getParticleMass(h) if h in env else ligand_b.getParticleMass(b_of[h]))
    for kind in (openmm.HarmonicBondForce, openmm.HarmonicAngleForce, openmm.PeriodicTorsionForce):
        new = kind()
        new.setUsesPeriodicBoundaryConditions(True)
        add, get, count = {
            openmm.HarmonicBondForce: ("addBond", "getBondParameters", "getNumBonds"),
            openmm.HarmonicAngleForce: ("addAngle", "getAngleParameters", "getNumAngles"),
            openmm.PeriodicTorsionForce: ("addTorsion", "getTorsionParameters", "getNumTorsions"),
        }[kind]
        n_atoms = {openmm.HarmonicBondForce: 2, openmm.HarmonicAngleForce: 3, openmm.PeriodicTorsionForce: 4}[
            kind
        ]
        for source, index in ((system_a, new_of), (ligand_b, of_b)):
            for force in (f for f in source.getForces() if isinstance(f, kind)):
                for n in range(getattr(force, count)()):
                    p = getattr(force, get)(n)
                    if source is system_a and not set(p[:n_atoms]) <= env:
                        continue
                    getattr(new, add)(*[index[i] for i in p[:n_atoms]], *p[n_atoms:])
        out.addForce(new)
    nb_a = next(f for f in system_a.getForces() if isinstance(f, openmm.NonbondedForce))
    nb_b = next(f for f in ligand_b.getForces() if isinstance(f, openmm.NonbondedForce))
    nb = openmm.NonbondedForce()
    for attr in (
        "NonbondedMethod",
        "CutoffDistance",
        "EwaldErrorTolerance",
        "UseSwitchingFunction",
        "SwitchingDistance",
    ):
        getattr(nb, f"set{attr}")(getattr(nb_a, f"get{attr}")())
    nb.setUseDispersionCorrection(False)
    nb.setPMEParameters(*nb_a.getPMEParameters())
    for h in order:
        nb.addParticle(*(nb_a.getParticleParameters(h) if h in env else nb_b.getParticleParameters(b_of[h])))
    for n in range(nb_a.getNumExceptions()):
        i, j, *p = nb_a.getExceptionParameters(n)
        if i in env and j in env:
            nb.addException(new_of[i], new_of[j], *p)
    for n in range(nb_b.getNumExceptions()):
        i, j, *p = nb_b.getExceptionParameters(n)
        nb.addException(of_b[i], of_b[j], *p)
    out.addForce(nb)
    return out, order


def check_complex_end_states(system_a, ligand_b, hybrid, x, box) -> None:  # type: ignore[no-untyped-def]
    """Both end states of the complex hybrid against the real complexes (Reference platform, double
    precision): lambda 0 is A's complex, lambda 1 ligand B's complex in the same environment, each
    without its dispersion correction (applied after sampling from the hybrid's coefficients) and
    plus the other ligand's kept dummy valence."""
    atoms = hybrid.atoms
    real_a = copy.deepcopy(system_a)
    next(f for f in real_a.getForces() if isinstance(f, openmm.NonbondedForce)).setUseDispersionCorrection(
        False
    )
    real_b, order = ligand_b_in_environment(system_a, atoms, ligand_b)
    b_idx = atoms.state_b_ligand()
    own_b = {h: j for j, h in enumerate(b_idx)}
    dummies_b = kept_dummy_valence(ligand_b, hybrid, "b", own_b)
    dummies_a = kept_dummy_valence(system_a, hybrid, "a", {h: h for h in range(atoms.n_a)})
    ref0 = reference_energy(real_a, x[: atoms.n_a], box) + reference_energy(dummies_b, x[b_idx], None)
    ref1 = reference_energy(real_b, x[order], box) + reference_energy(dummies_a, x[: atoms.n_a], None)
    e0 = reference_energy(hybrid.system, x, box, lambda_values(0.0))
    e1 = reference_energy(hybrid.system, x, box, lambda_values(1.0))
    assert e0 == pytest.approx(ref0, abs=2e-3), (e0, ref0)
    assert e1 == pytest.approx(ref1, abs=2e-3), (e1, ref1)
    assert abs(e1 - e0) > 1.0  # the ligands differ: a test that could fail


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

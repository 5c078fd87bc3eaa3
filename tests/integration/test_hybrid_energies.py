"""The hybrid's end states are the real end states: energies at lambda 0 and 1 against independent references.

At lambda = 0 the hybrid must equal the real state A (ligand A in its environment) plus the valence
energy that keeps B's unique atoms bonded to the core as non-interacting dummies (B's bonds, angles
and torsions that touch a unique-B atom, less those the dummy-atom rules remove: extra junction
angles and torsions, :mod:`fepflow.hybrid.dummies`), and at lambda = 1 the real state B (ligand B in
the same environment) plus A's kept dummy valence. The references are built here from the two ligands' own
systems (published FreeSolv GAFF parameters through tleap), not from the hybrid code.
"""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import openmm
import pytest
from openmm import unit

from fepflow.chemistry import build_solvated, build_vacuum
from fepflow.data.freesolv import published_parameters
from fepflow.hybrid import LAMBDA_PARAMETERS, build_hybrid, hybrid_positions, lambda_values
from fepflow.mapping import map_ligands
from fepflow.models import SmallMoleculeComponent

PAIRS = [("ethane", "methanol"), ("methane", "ethane"), ("toluene", "phenol"), ("benzene", "toluene")]
SMILES = {
    "methane": "C",
    "ethane": "CC",
    "methanol": "CO",
    "toluene": "Cc1ccccc1",
    "phenol": "Oc1ccccc1",
    "benzene": "c1ccccc1",
}


@cache
def params(name: str):  # type: ignore[no-untyped-def]
    return published_parameters(name)


@cache
def vacuum(name: str):  # type: ignore[no-untyped-def]
    return build_vacuum(params(name), constraints=None)


def energy(
    system: openmm.System, positions_nm: np.ndarray, box=None, values: dict[str, float] | None = None
) -> float:  # type: ignore[no-untyped-def]
    integrator = openmm.VerletIntegrator(1.0 * unit.femtosecond)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    if box is not None:
        context.setPeriodicBoxVectors(*box)
    context.setPositions(positions_nm * unit.nanometer)
    for name, value in (values or {}).items():
        context.setParameter(name, value)
    e = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    del context, integrator
    return float(e)


def canonical(term: tuple[int, ...]) -> tuple[int, ...]:
    return min(tuple(term), tuple(term)[::-1])


def removed_terms(hybrid, side: str, own: dict[int, int]) -> set[tuple[int, ...]]:  # type: ignore[no-untyped-def]
    """The terms the hybrid removed from state ``side``'s dummies, in that system's own numbering."""
    return {
        canonical(tuple(own[h] for h in term))
        for group in hybrid.dummy_groups
        if group.side == side
        for terms in group.removed.values()
        for term in terms
    }


def dummy_valence(
    ligand_system: openmm.System, unique: set[int], removed: set[tuple[int, ...]]
) -> openmm.System:
    """The ligand's bonds, angles and torsions touching ``unique`` atoms, less ``removed``; nothing else."""
    out = openmm.System()
    for i in range(ligand_system.getNumParticles()):
        out.addParticle(ligand_system.getParticleMass(i))
    for force in ligand_system.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            new = openmm.HarmonicBondForce()
            for n in range(force.getNumBonds()):
                i, j, r0, k = force.getBondParameters(n)
                if {i, j} & unique and canonical((i, j)) not in removed:
                    new.addBond(i, j, r0, k)
        elif isinstance(force, openmm.HarmonicAngleForce):
            new = openmm.HarmonicAngleForce()
            for n in range(force.getNumAngles()):
                i, j, m, t0, k = force.getAngleParameters(n)
                if {i, j, m} & unique and canonical((i, j, m)) not in removed:
                    new.addAngle(i, j, m, t0, k)
        elif isinstance(force, openmm.PeriodicTorsionForce):
            new = openmm.PeriodicTorsionForce()
            for n in range(force.getNumTorsions()):
                i, j, m, q, per, phase, k = force.getTorsionParameters(n)
                if {i, j, m, q} & unique and canonical((i, j, m, q)) not in removed:
                    new.addTorsion(i, j, m, q, per, phase, k)
        else:
            continue
        out.addForce(new)
    return out


def replace_ligand(system_a: openmm.System, n_lig_a: int, ligand_b: openmm.System) -> openmm.System:
    """Ligand B (alone) put in place of ligand A (the first ``n_lig_a`` particles) in A's environment."""
    n_b = ligand_b.getNumParticles()
    shift = n_b - n_lig_a
    out = openmm.System()
    out.setDefaultPeriodicBoxVectors(*system_a.getDefaultPeriodicBoxVectors())
    for i in range(n_b):
        out.addParticle(ligand_b.getParticleMass(i))
    for i in range(n_lig_a, system_a.getNumParticles()):
        out.addParticle(system_a.getParticleMass(i))
    nb_b = next(f for f in ligand_b.getForces() if isinstance(f, openmm.NonbondedForce))
    for force in system_a.getForces():
        if isinstance(force, openmm.NonbondedForce):
            new = openmm.NonbondedForce()  # B's particles and exceptions, then the environment's
            for attr in (
                "NonbondedMethod",
                "CutoffDistance",
                "EwaldErrorTolerance",
                "UseDispersionCorrection",
                "UseSwitchingFunction",
                "SwitchingDistance",
                "ReactionFieldDielectric",
            ):
                getattr(new, f"set{attr}")(getattr(force, f"get{attr}")())
            for i in range(n_b):
                new.addParticle(*nb_b.getParticleParameters(i))
            for i in range(n_lig_a, system_a.getNumParticles()):
                new.addParticle(*force.getParticleParameters(i))
            for n in range(nb_b.getNumExceptions()):
                new.addException(*nb_b.getExceptionParameters(n))
            for n in range(force.getNumExceptions()):
                i, j, *p = force.getExceptionParameters(n)
                if i >= n_lig_a and j >= n_lig_a:
                    new.addException(i + shift, j + shift, *p)
            out.addForce(new)
    for src in (ligand_b,):
        for force in src.getForces():
            if isinstance(
                force, openmm.HarmonicBondForce | openmm.HarmonicAngleForce | openmm.PeriodicTorsionForce
            ):
                out.addForce(copy.deepcopy(force))
    for force in system_a.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            new = openmm.HarmonicBondForce()
            for n in range(force.getNumBonds()):
                i, j, r0, k = force.getBondParameters(n)
                if i >= n_lig_a and j >= n_lig_a:
                    new.addBond(i + shift, j + shift, r0, k)
            out.addForce(new)
        elif isinstance(force, openmm.HarmonicAngleForce):
            new = openmm.HarmonicAngleForce()
            for n in range(force.getNumAngles()):
                i, j, m, t0, k = force.getAngleParameters(n)
                if min(i, j, m) >= n_lig_a:
                    new.addAngle(i + shift, j + shift, m + shift, t0, k)
            out.addForce(new)
    return out


def dispersion_correction(system: openmm.System, zero_epsilon: set[int], x: np.ndarray, box) -> float:  # type: ignore[no-untyped-def]
    """The NonbondedForce's long-range dispersion energy, with ``zero_epsilon`` atoms' epsilon set to 0
    (energy with the correction minus energy without it, at the same positions ``x``)."""
    out = openmm.System()
    out.setDefaultPeriodicBoxVectors(*system.getDefaultPeriodicBoxVectors())
    for _ in range(system.getNumParticles()):
        out.addParticle(1.0)
    nb = copy.deepcopy(next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce)))
    if not nb.getUseDispersionCorrection():
        return 0.0
    for i in range(nb.getNumParticles()):
        _q, s, e = nb.getParticleParameters(i)
        nb.setParticleParameters(i, 0.0, s, 0.0 if i in zero_epsilon else e)
    for n in range(nb.getNumExceptions()):
        i, j, *_ = nb.getExceptionParameters(n)
        nb.setExceptionParameters(n, i, j, 0.0, 1.0, 0.0)
    out.addForce(nb)
    with_lrc = energy(out, x, box)
    nb.setUseDispersionCorrection(False)
    return with_lrc - energy(out, x, box)


def check_end_states(system_a, n_lig_a, pos_a, box, name_a, name_b):  # type: ignore[no-untyped-def]
    mol_a = SmallMoleculeComponent.from_smiles(SMILES[name_a], name_a)
    mol_b = SmallMoleculeComponent.from_smiles(SMILES[name_b], name_b)
    mapping = map_ligands(mol_a, mol_b)
    vac_b = vacuum(name_b)
    hybrid = build_hybrid(system_a, list(range(n_lig_a)), vac_b.system, mapping.pairs)
    atoms = hybrid.atoms
    assert atoms.unique_a or atoms.unique_b
    pos_b_own = np.asarray(vac_b.positions.value_in_unit(unit.nanometer))
    x = hybrid_positions(pos_a, pos_b_own, atoms)
    e0 = energy(hybrid.system, x, box, lambda_values(0.0))
    e1 = energy(hybrid.system, x, box, lambda_values(1.0))

    b_idx = atoms.state_b_ligand()
    x_b_lig = x[b_idx]
    unique_b_local = {j for j, h in enumerate(b_idx) if h in atoms.unique_b}
    unique_a_local = {i for i in range(n_lig_a) if i in atoms.unique_a}
    removed_b = removed_terms(hybrid, "b", {h: j for j, h in enumerate(b_idx)})
    removed_a = removed_terms(hybrid, "a", {i: i for i in range(atoms.n_a)})
    assert removed_a or removed_b  # every pair here has a junction with redundant terms
    ref0 = energy(system_a, x[: atoms.n_a], box) + energy(
        dummy_valence(vac_b.system, unique_b_local, removed_b), x_b_lig
    )
    real_b = replace_ligand(system_a, n_lig_a, vac_b.system)
    x_real_b = np.concatenate([x_b_lig, x[n_lig_a : atoms.n_a]])
    vac_a_system = dummy_valence(system_a, unique_a_local, removed_a)
    ref1 = energy(real_b, x_real_b, box) + energy(vac_a_system, x[: atoms.n_a])
    # the hybrid samples without a dispersion correction; its coefficients give the end states' own
    lrc_a = dispersion_correction(system_a, set(), x[: atoms.n_a], box)
    lrc_b = dispersion_correction(real_b, set(), x_real_b, box)
    tol = 1e-3 + 1e-7 * abs(ref0)
    if box is not None and hybrid.dispersion_coefficients is not None:
        volume = box[0][0] * box[1][1] * box[2][2]
        volume = volume.value_in_unit(unit.nanometer**3)
        c_a, c_b = hybrid.dispersion_coefficients
        assert lrc_a != 0.0 and lrc_b != 0.0
        assert c_a / volume == pytest.approx(lrc_a, rel=1e-5)
        assert c_b / volume == pytest.approx(lrc_b, rel=1e-5)
        assert hybrid.dispersion_correction_kj_mol(volume, volume) == pytest.approx(
            lrc_b - lrc_a, abs=5e-4
        )  # N differs by the unique atoms
    else:
        assert lrc_a == lrc_b == 0.0 and hybrid.dispersion_coefficients is None
    ref0 -= lrc_a
    ref1 -= lrc_b
    assert e0 == pytest.approx(ref0, abs=tol), (e0, ref0)
    assert e1 == pytest.approx(ref1, abs=tol), (e1, ref1)
    # intermediate states are finite and differ from the ends
    emid = energy(hybrid.system, x, box, lambda_values(0.5))
    assert np.isfinite(emid)
    return e0, e1


@pytest.mark.parametrize(("name_a", "name_b"), PAIRS)
def test_vacuum_end_states(name_a: str, name_b: str) -> None:
    built = vacuum(name_a)
    pos = np.asarray(built.positions.value_in_unit(unit.nanometer))
    check_end_states(built.system, len(built.ligand_atoms), pos, None, name_a, name_b)


@pytest.mark.parametrize(("name_a", "name_b"), PAIRS)
@pytest.mark.parametrize("dispersion", [False, True])
def test_solvent_pme_end_states(name_a: str, name_b: str, dispersion: bool) -> None:
    built = build_solvated(params(name_a), padding_nm=1.0, constraints=None, hydrogen_mass_amu=None)
    system = built.system
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    assert nb.getNonbondedMethod() == openmm.NonbondedForce.PME
    nb.setUseDispersionCorrection(dispersion)
    pos = np.asarray(built.positions.value_in_unit(unit.nanometer))
    box = system.getDefaultPeriodicBoxVectors()
    e0, _ = check_end_states(system, len(built.ligand_atoms), pos, box, name_a, name_b)
    if not dispersion and name_a == "toluene":
        # the CPU platform accepts the hybrid (same exclusions in every nonbonded force) and agrees
        mapping = map_ligands(
            SmallMoleculeComponent.from_smiles(SMILES[name_a], name_a),
            SmallMoleculeComponent.from_smiles(SMILES[name_b], name_b),
        )
        hybrid = build_hybrid(system, built.ligand_atoms, vacuum(name_b).system, mapping.pairs)
        x = hybrid_positions(
            pos, np.asarray(vacuum(name_b).positions.value_in_unit(unit.nanometer)), hybrid.atoms
        )
        context = openmm.Context(
            hybrid.system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("CPU")
        )
        context.setPeriodicBoxVectors(*box)
        context.setPositions(x * unit.nanometer)
        e_cpu = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        assert e_cpu == pytest.approx(e0, rel=2e-5)  # single-precision PME


def test_hybrid_parameters_are_global_and_default_to_state_a() -> None:
    built = vacuum("toluene")
    mapping = map_ligands(
        SmallMoleculeComponent.from_smiles("Cc1ccccc1", "toluene"),
        SmallMoleculeComponent.from_smiles("Oc1ccccc1", "phenol"),
    )
    hybrid = build_hybrid(built.system, built.ligand_atoms, vacuum("phenol").system, mapping.pairs)
    names = set()
    for force in hybrid.system.getForces():
        if hasattr(force, "getNumGlobalParameters"):
            for k in range(force.getNumGlobalParameters()):
                names.add(force.getGlobalParameterName(k))
                if force.getGlobalParameterName(k) != "softcore_alpha":
                    assert force.getGlobalParameterDefaultValue(k) == 0.0
    assert set(LAMBDA_PARAMETERS) <= names
    # toluene's 15 atoms plus phenol's unique hydroxyl O and H
    assert hybrid.system.getNumParticles() == 15 + 2
    assert (
        len(hybrid.atoms.unique_a) == 4 and len(hybrid.atoms.unique_b) == 2 and len(hybrid.atoms.core) == 11
    )

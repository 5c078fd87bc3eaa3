"""fepflow.chemistry with the real AmberTools (antechamber, sqm, parmchk2, tleap) and OpenMM."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openmm as mm
import pytest
from openmm import app, unit

from fepflow.chemistry import (
    LigandParameters,
    ParameterizationError,
    amber,
    build_implicit,
    build_solvated,
    build_vacuum,
    ligand_from_amber_files,
    parameterize_ligand,
)
from fepflow.chemistry.amberfiles import read_prmtop_atoms
from fepflow.data.freesolv import amber_files, entries
from fepflow.models import SmallMoleculeComponent

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # AmberTools is a pinned dependency: no skip

FREESOLV_AMBER = amber_files("mobley_9055303")[0].parent  # the FreeSolv files shipped with fepflow
GAFF2_TYPES = {"c3", "oh", "ho", "hc", "h1"}


def _platform() -> tuple[mm.Platform, dict[str, str]]:
    return mm.Platform.getPlatformByName("CPU"), {"Threads": "2"}


def _energy(system: mm.System, positions: Any, platform: str = "Reference") -> float:
    context = mm.Context(system, mm.VerletIntegrator(1.0), mm.Platform.getPlatformByName(platform))
    context.setPositions(positions)
    state = context.getState(getEnergy=True)
    return float(state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))


def _spy_on_tools(patch: pytest.MonkeyPatch, runs: list[tuple[str, list[str]]]) -> None:
    real: Callable[..., amber.ToolRun] = amber.run_tool

    def spy(tool: str, args: list[str], **kwargs: Any) -> amber.ToolRun:
        runs.append((tool, list(args)))
        return real(tool, args, **kwargs)

    patch.setattr(amber, "run_tool", spy)


@pytest.fixture()
def tool_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Every AmberTools run from here on, with its arguments (the real tools still run)."""
    runs: list[tuple[str, list[str]]] = []
    _spy_on_tools(monkeypatch, runs)
    return runs


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ligand-cache")


@pytest.fixture(scope="module")
def methane(cache: Path) -> LigandParameters:
    return parameterize_ligand(SmallMoleculeComponent.from_smiles("C", "methane"), cache_dir=cache)


@pytest.fixture(scope="module")
def acetate_runs(cache: Path) -> tuple[LigandParameters, list[tuple[str, list[str]]]]:
    """Acetate's parameters and the tool runs that made them."""
    runs: list[tuple[str, list[str]]] = []
    with pytest.MonkeyPatch.context() as patch:
        _spy_on_tools(patch, runs)
        params = parameterize_ligand(
            SmallMoleculeComponent.from_smiles("CC(=O)[O-]", "acetate"), cache_dir=cache
        )
    return params, runs


@pytest.fixture(scope="module")
def acetate(acetate_runs: tuple[LigandParameters, list[tuple[str, list[str]]]]) -> LigandParameters:
    return acetate_runs[0]


# --- parameterisation ---------------------------------------------------------------------------


def test_ethanol_gaff2_am1bcc_and_the_cache(tmp_path: Path, tool_runs: list[tuple[str, list[str]]]) -> None:
    mol = SmallMoleculeComponent.from_smiles("CCO", "ethanol")
    params = parameterize_ligand(mol, cache_dir=tmp_path)
    assert [tool for tool, _ in tool_runs] == ["antechamber", "parmchk2"]
    assert params.n_atoms == 9 and params.net_charge == 0
    assert sum(params.charges) == pytest.approx(0.0, abs=1e-3)
    assert set(params.atom_types) == GAFF2_TYPES
    assert (params.forcefield, params.charge_method) == ("gaff2", "am1bcc")
    assert "gaff2" in params.provenance.lower()
    # oxygen most negative, its hydrogen most positive
    charges = dict(zip(params.atom_types, params.charges, strict=True))
    assert charges["oh"] < -0.5 and charges["ho"] > 0.3

    again = parameterize_ligand(mol, cache_dir=tmp_path)
    assert len(tool_runs) == 2  # no second antechamber run
    assert again == params


def test_same_molecule_same_charges_without_cache() -> None:
    mol = SmallMoleculeComponent.from_smiles("CO", "methanol")
    assert parameterize_ligand(mol).mol2 == parameterize_ligand(mol).mol2


def test_charged_molecule(acetate_runs: tuple[LigandParameters, list[tuple[str, list[str]]]]) -> None:
    acetate, runs = acetate_runs
    assert acetate.net_charge == -1
    assert sum(acetate.charges) == pytest.approx(-1.0, abs=1e-3)
    tool, args = runs[0]
    assert tool == "antechamber" and args[args.index("-nc") + 1] == "-1"
    assert acetate.atom_types.count("o") == 2


def test_element_without_am1_parameters_fails_clearly() -> None:
    boronic = SmallMoleculeComponent.from_smiles("OB(O)c1ccccc1", "phenylboronic acid")
    with pytest.raises(ParameterizationError) as info:
        parameterize_ligand(boronic)
    err = info.value
    assert err.molecule == "phenylboronic acid" and err.tool == "sqm"
    assert "phenylboronic acid" in str(err) and "sqm" in str(err)
    assert "UNSUPPORTED ELEMENT" in err.log_tail and "sqm.out" in err.log_tail


def test_timeout_kills_antechamber_and_sqm() -> None:
    mol = SmallMoleculeComponent.from_smiles("CCCCCCCCCCCCCCCCCCCCc1ccccc1", "icosylbenzene")
    with pytest.raises(ParameterizationError, match="timed out") as info:
        parameterize_ligand(mol, timeout_s=0.5)
    assert info.value.tool == "antechamber" and info.value.molecule == "icosylbenzene"
    assert info.value.log_tail


# --- published parameters ------------------------------------------------------------------------


def _published(mobley_id: str, molecule: SmallMoleculeComponent | None = None) -> LigandParameters:
    base = FREESOLV_AMBER / mobley_id
    return ligand_from_amber_files(
        base.with_suffix(".prmtop"),
        base.with_suffix(".inpcrd"),
        base.with_suffix(".frcmod"),
        name=mobley_id,
        molecule=molecule,
    )


def _published_energy(mobley_id: str) -> float:
    base = FREESOLV_AMBER / mobley_id
    system = app.AmberPrmtopFile(str(base.with_suffix(".prmtop"))).createSystem(
        nonbondedMethod=app.NoCutoff, constraints=None
    )
    return _energy(system, app.AmberInpcrdFile(str(base.with_suffix(".inpcrd"))).getPositions())


@pytest.mark.parametrize("mobley_id", ["mobley_9055303", "mobley_1636752"])  # methane, methanol
def test_published_parameters_rebuild_to_the_published_energy(mobley_id: str) -> None:
    params = _published(mobley_id)
    assert (params.forcefield, params.charge_method, params.net_charge) == ("gaff", "published", 0)
    prmtop = read_prmtop_atoms((FREESOLV_AMBER / f"{mobley_id}.prmtop").read_text())
    assert params.charges == pytest.approx(prmtop.charges, abs=1e-8)
    assert params.atom_types == prmtop.types
    built = build_vacuum(params, constraints=None)
    assert _energy(built.system, built.positions) == pytest.approx(_published_energy(mobley_id), abs=1e-4)


def test_every_freesolv_dev_molecule_rebuilds_in_component_order() -> None:
    """The published GAFF 1.x bonds and angles differ from the installed gaff.dat; the frcmod keeps them."""
    rows = [{"id": e.mobley_id, "smiles": e.smiles, "name": e.name} for e in entries()]
    assert len(rows) == 40
    for row in rows:
        mol = SmallMoleculeComponent.from_smiles(row["smiles"], row["name"])
        params = _published(row["id"], molecule=mol)
        assert params.molecule_key == mol.key
        built = build_vacuum(params, constraints=None)
        elements = [a.element.atomic_number for a in built.topology.atoms()]
        assert elements == [a.GetAtomicNum() for a in mol.to_rdkit().GetAtoms()], row["name"]
        energy = _energy(built.system, built.positions)
        assert energy == pytest.approx(_published_energy(row["id"]), abs=1e-3), row["name"]


# --- systems ---------------------------------------------------------------------------------------


def test_solvated_methane(methane: LigandParameters) -> None:
    built = build_solvated(methane)
    system, top = built.system, built.topology
    assert built.ligand_atoms == [0, 1, 2, 3, 4]
    waters = [r for r in top.residues() if r.name == "HOH"]
    assert len(waters) > 500 and system.getNumParticles() == 5 + 3 * len(waters)
    assert not [r for r in top.residues() if r.name in ("Na+", "Cl-")]

    box = np.diag(built.box_vectors.value_in_unit(unit.nanometer))
    extent = np.ptp(built.positions.value_in_unit(unit.nanometer)[:5], axis=0)
    assert np.all(box > 2 * 1.2 + extent) and np.all(box < 2 * 1.2 + extent + 0.8)
    assert system.usesPeriodicBoundaryConditions()

    nb = next(f for f in system.getForces() if isinstance(f, mm.NonbondedForce))
    assert nb.getNonbondedMethod() == mm.NonbondedForce.PME
    assert nb.getCutoffDistance().value_in_unit(unit.nanometer) == pytest.approx(0.9)
    assert not any(isinstance(f, mm.MonteCarloBarostat) for f in system.getForces())

    masses = [system.getParticleMass(i).value_in_unit(unit.dalton) for i in range(system.getNumParticles())]
    ligand_h = [masses[a.index] for a in top.atoms() if a.residue.index == 0 and a.element.symbol == "H"]
    water_h = [masses[a.index] for a in top.atoms() if a.residue.name == "HOH" and a.element.symbol == "H"]
    assert ligand_h == pytest.approx([3.0] * 4)
    assert water_h == pytest.approx([1.008] * len(water_h))
    assert sum(masses[:5]) == pytest.approx(12.01 + 4 * 1.008)
    assert system.getNumConstraints() == 4 + 3 * len(waters)  # C-H bonds and rigid water
    assert "TIP3P" in built.description and "1.2 nm" in built.description and "HMR 3 amu" in built.description

    platform, properties = _platform()
    context = mm.Context(system, mm.VerletIntegrator(0.002), platform, properties)
    context.setPositions(built.positions)
    mm.LocalEnergyMinimizer.minimize(context, 10.0, 200)
    energy = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    assert np.isfinite(energy) and energy < 0


def test_salt_and_neutralisation(methane: LigandParameters, acetate: LigandParameters) -> None:
    def ions(built: Any) -> dict[str, int]:
        names = [r.name for r in built.topology.residues()]
        return {name: names.count(name) for name in ("Na+", "Cl-")}

    salted = build_solvated(methane, ion_concentration_molar=0.15)
    counts = ions(salted)
    assert counts["Na+"] == counts["Cl-"] >= 1
    again = build_solvated(methane, ion_concentration_molar=0.15)
    assert again.inpcrd_text == salted.inpcrd_text  # ion placement is deterministic

    neutral = build_solvated(acetate, hydrogen_mass_amu=None)
    assert ions(neutral) == {"Na+": 1, "Cl-": 0}
    nb = next(f for f in neutral.system.getForces() if isinstance(f, mm.NonbondedForce))
    total = sum(
        nb.getParticleParameters(i)[0].value_in_unit(unit.elementary_charge)
        for i in range(nb.getNumParticles())
    )
    assert total == pytest.approx(0.0, abs=1e-4)

    charged = build_solvated(acetate, neutralize=False)
    assert ions(charged) == {"Na+": 0, "Cl-": 0}


def test_implicit_and_vacuum(methane: LigandParameters) -> None:
    implicit = build_implicit(methane)
    forces = [type(f).__name__ for f in implicit.system.getForces()]
    assert "GBSAOBCForce" in forces or "CustomGBForce" in forces
    assert implicit.box_vectors is None and implicit.ligand_atoms == [0, 1, 2, 3, 4]
    assert "OBC2" in implicit.description and "(mbondi2)" in implicit.prmtop_text

    vacuum = build_vacuum(methane, hydrogen_mass_amu=2.0)
    nb = next(f for f in vacuum.system.getForces() if isinstance(f, mm.NonbondedForce))
    assert nb.getNonbondedMethod() == mm.NonbondedForce.NoCutoff
    masses = {a.element.symbol: vacuum.system.getParticleMass(a.index) for a in vacuum.topology.atoms()}
    assert masses["H"].value_in_unit(unit.dalton) == pytest.approx(2.0)
    assert masses["C"].value_in_unit(unit.dalton) == pytest.approx(12.01 - 4 * (2.0 - 1.008))
    assert np.isfinite(_energy(vacuum.system, vacuum.positions))
    with pytest.raises(ValueError):
        build_implicit(methane, solvent="water")


def test_tleap_failure_is_reported(methane: LigandParameters) -> None:
    broken = LigandParameters(**{**methane.__dict__, "mol2": methane.mol2.replace(" c3 ", " zz ")})
    with pytest.raises(ParameterizationError) as info:
        build_vacuum(broken)
    assert info.value.tool == "tleap" and info.value.molecule == "methane"
    assert "zz" in info.value.log_tail

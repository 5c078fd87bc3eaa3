"""The hybrid's end states hydrate exactly as the real molecules do (issue 15, item 1).

In implicit solvent the hydration free energy of a molecule is an exponential average over its
vacuum ensemble, exactly: ΔG_hyd = -kT ln <exp(-(U_GB - U_vac)/kT)>_vac (Zwanzig; the GB energy is a
function of the solute's coordinates only). So the hybrid's λ = 0 and λ = 1 states, sampled in
vacuum and evaluated with the hybrid's GB force, must give the hydration free energies of A and B
themselves, sampled and evaluated the same way. Anything that changes the physical atoms' ensemble
at an end state breaks this: dummy-atom bonded terms that do not factorise (Fleck, Wieder & Boresch,
JCTC 2021, 17, 4403), or a start that traps the end state in a strained geometry. Both are
kT-level biases of the relative result that a short relative run cannot see; here each costs one
vacuum run per state, and the comparison has no alchemical sampling error at all.

Ethane -> methanol caught a start of the second kind: the methyl hydrogens' labels, paired by an odd
permutation, turned the methyl upside down when B was fitted onto A, so the hydroxyl sat opposite the
dummy methyl (H-C-O 91°) and methanol's end state came out 0.41 kcal/mol less favourable (-4.28
against -4.69 kcal/mol, 20,000 samples). Published FreeSolv GAFF parameters, GBSA-OBC2 as the
``fast`` preset (hydrogen masses 3 amu, X-H bonds constrained), 298.15 K.

Measured (idle machine, 20,000 samples per state, kcal/mol; hybrid end state vs the molecule):
ethane 1.874 vs 1.875, methanol -4.690 vs -4.688; methane 1.563 vs 1.563, ethane 1.873 vs 1.875;
benzene -1.271 vs -1.271, toluene -0.667 vs -0.667. This test takes 3,000 samples per state
(block standard errors <= 0.006 kcal/mol) and allows 0.05; about 30 s per pair on the Reference platform.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import openmm
import pytest
from openmm import unit

from fepflow.chemistry import build_implicit, build_vacuum
from fepflow.data.freesolv import entry, published_parameters
from fepflow.hybrid import build_hybrid, hybrid_positions, lambda_values
from fepflow.mapping import map_ligands
from fepflow.models import SmallMoleculeComponent

pytestmark = [pytest.mark.integration]

TEMPERATURE_K = 298.15
KT_KCAL_MOL = 0.0019872041 * TEMPERATURE_K
SAMPLES = 3000
STEPS_BETWEEN_SAMPLES = 25
TOLERANCE_KCAL_MOL = 0.05
KCAL = unit.kilocalorie_per_mole
NM = unit.nanometer


def zwanzig_hydration(
    vacuum: openmm.System,
    solvated: openmm.System,
    positions_nm: np.ndarray,
    parameters: dict[str, float] | None = None,
    samples: int = SAMPLES,
    seed: int = 7,
) -> tuple[float, float]:
    """ΔG_hyd (kcal/mol) and its standard error from four blocks: vacuum Langevin dynamics (2 fs),
    GB minus vacuum energy of every sample, exponentially averaged."""
    # Reference: for a molecule of 5-15 atoms the CPU platform's per-step thread hand-offs (futex
    # calls) cost more than the forces, several times more on a busy machine
    platform = openmm.Platform.getPlatformByName("Reference")
    integrator = openmm.LangevinMiddleIntegrator(TEMPERATURE_K, 5.0, 0.002)
    integrator.setRandomNumberSeed(seed)
    sampler = openmm.Context(vacuum, integrator, platform)
    evaluator = openmm.Context(solvated, openmm.VerletIntegrator(0.001), platform)
    for context in (sampler, evaluator):
        for name, value in (parameters or {}).items():
            context.setParameter(name, value)
    sampler.setPositions(positions_nm * NM)
    sampler.applyConstraints(1e-8)
    openmm.LocalEnergyMinimizer.minimize(sampler)
    sampler.setVelocitiesToTemperature(TEMPERATURE_K, seed)
    integrator.step(2500)
    work = np.empty(samples)
    for n in range(samples):
        integrator.step(STEPS_BETWEEN_SAMPLES)
        state = sampler.getState(getPositions=True, getEnergy=True)
        evaluator.setPositions(state.getPositions())
        solvated_energy = evaluator.getState(getEnergy=True).getPotentialEnergy().value_in_unit(KCAL)
        work[n] = solvated_energy - state.getPotentialEnergy().value_in_unit(KCAL)

    def average(w: np.ndarray) -> float:
        x = -w / KT_KCAL_MOL
        top = float(x.max())
        return -KT_KCAL_MOL * (top + math.log(float(np.mean(np.exp(x - top)))))

    blocks = [average(b) for b in np.array_split(work, 4)]
    return average(work), float(np.std(blocks, ddof=1) / math.sqrt(len(blocks)))


def _built(name: str, solvent: str) -> Any:
    if solvent == "obc2":
        return build_implicit(published_parameters(name), hydrogen_mass_amu=3.0, solvent="obc2")
    return build_vacuum(published_parameters(name), hydrogen_mass_amu=3.0)


@pytest.mark.parametrize(("a", "b"), [("ethane", "methanol"), ("methane", "ethane"), ("benzene", "toluene")])
def test_hybrid_end_states_hydrate_as_the_molecules(a: str, b: str) -> None:
    mol_a = SmallMoleculeComponent.from_smiles(entry(a).smiles, a)
    mol_b = SmallMoleculeComponent.from_smiles(entry(b).smiles, b)
    mapping = map_ligands(mol_a, mol_b)
    built = {(name, solvent): _built(name, solvent) for name in (a, b) for solvent in ("vacuum", "obc2")}
    hybrids = {
        solvent: build_hybrid(
            built[a, solvent].system, built[a, solvent].ligand_atoms, built[b, solvent].system, mapping.pairs
        )
        for solvent in ("vacuum", "obc2")
    }
    x = hybrid_positions(
        np.asarray(built[a, "vacuum"].positions.value_in_unit(NM)),
        np.asarray(built[b, "vacuum"].positions.value_in_unit(NM)),
        hybrids["vacuum"].atoms,
    )
    for lam, name in ((0.0, a), (1.0, b)):
        hybrid, error_h = zwanzig_hydration(
            hybrids["vacuum"].system, hybrids["obc2"].system, x, lambda_values(lam)
        )
        molecule, error_m = zwanzig_hydration(
            built[name, "vacuum"].system,
            built[name, "obc2"].system,
            np.asarray(built[name, "vacuum"].positions.value_in_unit(NM)),
        )
        print(
            f"{a} -> {b} λ={lam:g}: hybrid {hybrid:.3f} ± {error_h:.3f}, {name} {molecule:.3f} ± {error_m:.3f}"
        )
        assert max(error_h, error_m) < 0.02, "too few samples for the tolerance"
        assert hybrid == pytest.approx(molecule, abs=TOLERANCE_KCAL_MOL), (
            f"the hybrid's λ={lam:g} end state hydrates at {hybrid:.3f} kcal/mol, {name} itself at "
            f"{molecule:.3f}: the end state's physical atoms do not sample {name}'s ensemble"
        )

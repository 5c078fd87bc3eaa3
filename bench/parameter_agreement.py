"""Our ligand parameters against FreeSolv's published ones, atom by atom.

FreeSolv's calculated values used GAFF 1.x types and AM1-BCC charges from an older AmberTools. This
parameterises the same molecules with fepflow's own pipeline (RDKit conformer, antechamber, sqm,
parmchk2; GAFF 1.x by default, like the published files) and compares, in the same atom order:
atom types (how many differ, and which), partial charges (RMSD and largest difference, e) and the
dipole of the charges on the published geometry (debye), and the vacuum energy of each force
(bonds, angles, torsions, nonbonded) on the published geometry, since the published files carry
bond and angle parameters that differ from the GAFF installed now (1.81). Minutes for the whole
development set; cached parameters are reused.

    .venv/bin/python bench/parameter_agreement.py --molecules methane methanol toluene
    .venv/bin/python bench/parameter_agreement.py --count 40 --forcefield gaff2
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fepflow.chemistry import parameterize_ligand
from fepflow.chemistry.errors import ParameterizationError
from fepflow.chemistry.systems import build_vacuum
from fepflow.data.freesolv import entries, entry, published_parameters
from fepflow.models.components import SmallMoleculeComponent

OUT = Path(__file__).resolve().parent / "out"
E_ANGSTROM_IN_DEBYE = 4.80320
FORCES = ("HarmonicBondForce", "HarmonicAngleForce", "PeriodicTorsionForce", "NonbondedForce")


def dipole_debye(charges: list[float], positions: list[tuple[float, float, float]]) -> float:
    """|Σ q r| of point charges (e, Å), in debye; the net charge's origin dependence is removed."""
    q = np.asarray(charges)
    r = np.asarray(positions)
    r = r - r.mean(axis=0)
    return float(np.linalg.norm((q[:, None] * r).sum(axis=0)) * E_ANGSTROM_IN_DEBYE)


def force_energies(system: Any, positions: Any) -> dict[str, float]:
    """Vacuum energy of each force of ``system`` (modified: one force group each) at ``positions``
    (nm), kcal/mol."""
    import openmm
    from openmm import unit

    for i, force in enumerate(system.getForces()):
        force.setForceGroup(i)
    reference = openmm.Platform.getPlatformByName("Reference")
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), reference)
    context.setPositions(positions)
    energies = {}
    for i, force in enumerate(system.getForces()):
        energy = context.getState(getEnergy=True, groups={i}).getPotentialEnergy()
        energies[type(force).__name__] = energy.value_in_unit(unit.kilocalorie_per_mole)
    return energies


def compare(name: str, forcefield: str) -> dict[str, Any]:
    e = entry(name)
    published_params = published_parameters(e.name)
    molecule = SmallMoleculeComponent.from_smiles(e.smiles, e.name)
    own_params = parameterize_ligand(molecule, forcefield=forcefield, cache_dir=OUT / "ligand-cache")  # type: ignore[arg-type]
    published, own = published_params.parsed, own_params.parsed
    if len(own.atoms) != len(published.atoms):
        raise ValueError(f"{name}: {len(own.atoms)} atoms here, {len(published.atoms)} published")
    differing = [(p, o) for p, o in zip(published.atom_types, own.atom_types, strict=True) if p != o]
    dq = np.asarray(own.charges) - np.asarray(published.charges)
    geometry = published.positions  # both on one geometry: only the parameters differ
    built = build_vacuum(published_params, constraints=None)
    e_pub = force_energies(built.system, built.positions)
    e_own = force_energies(build_vacuum(own_params, constraints=None).system, built.positions)
    return {
        "molecule": e.name,
        "atoms": len(own.atoms),
        "types_differ": len(differing),
        "type_changes": sorted({f"{p}->{o}" for p, o in differing}),
        "charge_rmsd_e": float(math.sqrt(float((dq**2).mean()))),
        "charge_max_e": float(np.abs(dq).max()),
        "dipole_published_D": dipole_debye(published.charges, geometry),
        "dipole_own_D": dipole_debye(own.charges, geometry),
        "energy_difference_kcal_mol": {k: e_own.get(k, 0.0) - e_pub[k] for k in FORCES if k in e_pub},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--molecules", nargs="*", help="FreeSolv names (default: the smallest --count)")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--forcefield", choices=["gaff", "gaff2"], default="gaff")
    args = parser.parse_args()
    names = args.molecules or [e.name for e in sorted(entries(), key=lambda e: e.heavy_atoms)[: args.count]]
    width = max(len("molecule"), *(len(n) for n in names))
    print(f"own {args.forcefield}/AM1-BCC parameters against the published GAFF 1.x/AM1-BCC ones")
    print(
        f"{'molecule':<{width}} {'atoms':>5} {'types':>5} {'q rmsd':>7} {'q max':>6} {'μ pub':>6} {'μ own':>6} "
        f"{'ΔE bond':>8} {'ΔE angle':>8} {'ΔE tors':>8} {'ΔE nb':>8}  type changes"
    )
    print(f"{'':<{width + 41}}(ΔE: own - published energy on the published geometry, kcal/mol)")
    rows = []
    for name in names:
        try:
            r = compare(name, args.forcefield)
        except (ParameterizationError, ValueError, KeyError) as exc:
            print(f"{name:<{width}} failed: {exc}", file=sys.stderr, flush=True)
            continue
        rows.append(r)
        print(
            f"{r['molecule']:<{width}} {r['atoms']:>5} {r['types_differ']:>5} {r['charge_rmsd_e']:7.3f} "
            f"{r['charge_max_e']:6.3f} {r['dipole_published_D']:6.2f} {r['dipole_own_D']:6.2f} "
            + " ".join(f"{r['energy_difference_kcal_mol'].get(k, 0.0):+8.3f}" for k in FORCES)
            + f"  {', '.join(r['type_changes']) or '-'}",
            flush=True,
        )
    if rows:
        same = sum(r["types_differ"] == 0 for r in rows)
        rmsd = math.sqrt(
            sum(r["charge_rmsd_e"] ** 2 * r["atoms"] for r in rows) / sum(r["atoms"] for r in rows)
        )
        print(
            f"{same}/{len(rows)} molecules with identical atom types; charge RMSD over all atoms {rmsd:.3f} e; "
            f"largest charge difference {max(r['charge_max_e'] for r in rows):.3f} e"
        )


if __name__ == "__main__":
    main()

"""Where GB-OBC2 (the fast preset) fails: sulfonyls, phosphates and polyols against FreeSolv's TIP3P values.

    # seconds: single conformations (GB-minimised; OBC2 minus vacuum energy), OBC2 and GBn2, and the
    # OBC2 value as the S/P intrinsic radius varies
    .venv/bin/python bench/implicit_limits.py
    # minutes: the fast preset's model with 100 ps of sampling per state (as the value tests)
    OPENMM_CPU_THREADS=1 nice -n 10 .venv/bin/python bench/implicit_limits.py --md methyl_methanesulfonate glycerol
    # the same single conformations with FreeSolv's own parameters (amber.tar.gz of MobleyLab/FreeSolv,
    # unpacked): the parameters its TIP3P values were computed with
    .venv/bin/python bench/implicit_limits.py --published-amber /tmp/amber

GAFF2/AM1-BCC parameters (the fast preset's). The FreeSolv values (v0.52, experiment and the published
GAFF/TIP3P calculation) are quoted below; fepflow.chemistry.implicit_limits holds the conclusions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

# name: (SMILES, FreeSolv experiment, FreeSolv published GAFF/TIP3P), kcal/mol (FreeSolv v0.52)
MOLECULES: dict[str, tuple[str, float | None, float | None]] = {
    "methyl_methanesulfonate": ("COS(=O)(=O)C", -4.87, -8.82),
    "dimethyl_sulfone": ("CS(=O)(=O)C", -10.08, -10.56),
    "dimethyl_sulfate": ("COS(=O)(=O)OC", -5.10, -8.41),
    "methanesulfonyl_chloride": ("CS(=O)(=O)Cl", -4.87, -6.22),
    "methanesulfonamide": ("CS(N)(=O)=O", None, None),
    "dimethyl_sulfoxide": ("CS(=O)C", -9.28, -8.24),
    "trimethyl_phosphate": ("COP(=O)(OC)OC", -8.70, -10.64),
    "ethylene_glycol": ("C(CO)O", -9.30, -7.27),
    "glycerol": ("C(C(CO)O)O", -13.43, -10.14),
    "methanol": ("CO", -5.10, -3.49),
    "phenol": ("Oc1ccccc1", -6.60, -5.71),
    "2-methoxyethanol": ("COCCO", -6.62, -4.69),
}
RADII_NM = (0.18, 0.20, 0.22, 0.24)
MOBLEY_IDS = {
    "methyl_methanesulfonate": "mobley_9201263",
    "dimethyl_sulfone": "mobley_1708457",
    "dimethyl_sulfate": "mobley_5760563",
    "methanesulfonyl_chloride": "mobley_4850657",
    "dimethyl_sulfoxide": "mobley_8578590",
    "trimethyl_phosphate": "mobley_6115639",
    "ethylene_glycol": "mobley_4639255",
    "glycerol": "mobley_3259411",
    "methanol": "mobley_1636752",
    "phenol": "mobley_20524",
    "2-methoxyethanol": "mobley_5816127",
}
"""FreeSolv ids, for ``--published-amber`` (the folder of FreeSolv's amber.tar.gz, unpacked)."""


def _energy(system, positions):  # type: ignore[no-untyped-def]
    import openmm as mm
    from openmm import unit

    context = mm.Context(system, mm.VerletIntegrator(1.0), mm.Platform.getPlatformByName("Reference"))
    context.setPositions(positions)
    return context, context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(
        unit.kilocalorie_per_mole
    )


def single_conformation(name: str, published: Path | None = None) -> dict[str, object]:
    """OBC2 and GBn2 solvation energies of the GB-minimised conformation; OBC2 per S/P radius. With
    ``published`` (FreeSolv's amber files), the parameters FreeSolv's TIP3P value was computed with."""
    import openmm as mm

    from fepflow.chemistry.ligands import ligand_from_amber_files, parameterize_ligand
    from fepflow.chemistry.systems import build_implicit, build_vacuum
    from fepflow.models import SmallMoleculeComponent

    smiles, expt, calc = MOLECULES[name]
    molecule = SmallMoleculeComponent.from_smiles(smiles, name)
    if published is not None:
        files = [published / f"{MOBLEY_IDS[name]}.{ext}" for ext in ("prmtop", "inpcrd", "frcmod")]
        params = ligand_from_amber_files(*files, name=name, molecule=molecule)
    else:
        params = parameterize_ligand(molecule, cache_dir=OUT / "ligand-cache")
    vacuum = build_vacuum(params, constraints=None)
    row: dict[str, object] = {"molecule": name, "expt": expt, "freesolv_gaff_tip3p": calc}
    for model in ("obc2", "gbn2"):
        implicit = build_implicit(params, solvent=model, constraints=None)
        context, _ = _energy(implicit.system, implicit.positions)
        mm.LocalEnergyMinimizer.minimize(context, 1e-3, 2000)
        positions = context.getState(getPositions=True).getPositions()
        e_vac = _energy(vacuum.system, positions)[1]
        row[model] = round(_energy(implicit.system, positions)[1] - e_vac, 2)
        if model != "obc2":
            continue
        gb = next(f for f in implicit.system.getForces() if isinstance(f, mm.GBSAOBCForce))
        centres = [a.index for a in implicit.topology.atoms() if a.element.symbol in ("S", "P")]
        by_radius = {}
        for radius in RADII_NM if centres else ():
            for i in centres:
                charge, _, scale = gb.getParticleParameters(i)
                gb.setParticleParameters(i, charge, radius, scale)
            by_radius[radius] = round(_energy(implicit.system, positions)[1] - e_vac, 2)
        row["obc2_by_sp_radius_nm"] = by_radius
    return row


def molecular_dynamics(name: str) -> dict[str, object]:
    """The fast preset's model, 100 ps per state (the value tests' settings)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import fast_values

    fast_values.MOLECULES[name] = MOLECULES[name][0]
    row = fast_values.run(name, fast_values.SHORT, 0, OUT / "implicit_limits" / name, OUT / "ligand-cache")
    row["freesolv_gaff_tip3p"] = MOLECULES[name][2]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--md", nargs="*", help="run the fast preset's model on these molecules too")
    parser.add_argument(
        "--published-amber",
        type=Path,
        help="FreeSolv's amber/ folder: single conformations with the parameters of its TIP3P values",
    )
    args = parser.parse_args()
    for name in MOLECULES:
        if args.published_amber is None or name in MOBLEY_IDS:
            print(json.dumps(single_conformation(name, args.published_amber)), flush=True)
    for name in args.md or []:
        print(json.dumps(molecular_dynamics(name)), flush=True)


if __name__ == "__main__":
    main()

"""The ``fast`` preset's model (GBSA-OBC2, GAFF2/AM1-BCC) on a few small molecules: the short runs of
``tests/integration/test_values_fast_hydration.py`` and the long runs that made its reference values.

The reference values in ``tests/data/fast_hydration_values.json`` were made by

    OPENMM_CPU_THREADS=1 nice -n 10 .venv/bin/python tests/fast_values.py --jobs 8

which runs, per molecule, ``--long-repeats`` long runs (the reference: their mean, their spread kept
beside it) and ``--short-repeats`` runs of the short settings the test uses (their spread sets the
test's tolerance, see :func:`tolerance`). Re-run it (and commit the JSON) whenever the model changes on
purpose: the preset's lambda schedule, solvent model, force field or charges. Sampling settings may
change freely: the test runs its own fixed-length settings (:data:`SHORT`), not the preset's.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from fepflow.models import ChemicalSystem, SmallMoleculeComponent, SolventComponent, Transformation
from fepflow.protocols.absolute.hydration import AbsoluteHydrationProtocol
from fepflow.protocols.common.settings import SimulationSettings

REFERENCE = Path(__file__).resolve().parent / "data" / "fast_hydration_values.json"
MOLECULES = {
    "methane": "C",
    "methanol": "CO",
    "ethanol": "CCO",
    "toluene": "Cc1ccccc1",
    "phenol": "Oc1ccccc1",
}
"""Small FreeSolv molecules: no charge (methane), polar (methanol, ethanol, phenol), aromatic."""


def _simulation(production_iterations: int, equilibration_ps: float) -> dict[str, Any]:
    """Fixed-length sampling (never the preset's sample-until-precise), 2 ps per iteration."""
    sim: dict[str, Any] = {
        "timestep_fs": 4.0,
        "hydrogen_mass_amu": 3.0,
        "steps_per_iteration": 500,
        "equilibration_ps": equilibration_ps,
        "production_iterations": production_iterations,
        "checkpoint_interval_iterations": math.gcd(production_iterations, 25),
    }
    if "target_error_kcal_mol" in SimulationSettings.model_fields:
        sim["target_error_kcal_mol"] = None
    return sim


SHORT = _simulation(production_iterations=50, equilibration_ps=10.0)
"""The test's settings: 10 ps of equilibration and 100 ps of sampling per state."""
LONG_ITERATIONS = 300
"""The reference's length: 600 ps of sampling per state (6 x the test's), after 100 ps of equilibration."""


def long_settings(production_iterations: int = LONG_ITERATIONS) -> dict[str, Any]:
    return _simulation(production_iterations=production_iterations, equilibration_ps=100.0)


SIGMAS = 4.0
"""The test's tolerance is how far the short runs' mean fell from the reference plus this many
standard deviations (of a short run, and of the reference: its MBAR error with one long run) ..."""
FLOOR_KCAL_MOL = 0.15
"""... at least this much (the spread of a rigid molecule in implicit solvent can be ~0) ..."""
CEILING_KCAL_MOL = 0.35
"""... and at most this much, so that a 0.5 kcal/mol bias always fails."""


def tolerance(offset_kcal_mol: float, short_stdev_kcal_mol: float, reference_sigma_kcal_mol: float) -> float:
    """How far a short run may fall from the reference: the short runs' measured offset from it plus
    SIGMAS combined standard deviations, clipped to [FLOOR_KCAL_MOL, CEILING_KCAL_MOL]."""
    spread = SIGMAS * math.hypot(short_stdev_kcal_mol, reference_sigma_kcal_mol)
    return min(max(abs(offset_kcal_mol) + spread, FLOOR_KCAL_MOL), CEILING_KCAL_MOL)


def transformation(name: str, simulation: dict[str, Any]) -> Transformation:
    """ΔG_hyd of ``name`` with the fast preset's model and the given sampling."""
    settings = AbsoluteHydrationProtocol.preset_settings("fast", simulation=simulation)
    water = SolventComponent(ion_concentration_molar=0.0)
    ligand = SmallMoleculeComponent.from_smiles(MOLECULES[name], name)
    a = ChemicalSystem(name=f"{name} in water", components={"ligand": ligand, "solvent": water})
    b = ChemicalSystem(name=f"{name} decoupled", components={"solvent": water})
    return Transformation(state_a=a, state_b=b, protocol="absolute-hydration", settings=settings)


def run(
    name: str, simulation: dict[str, Any], repeat: int, workdir: Path, cache: Path | None = None
) -> dict[str, Any]:
    """One repeat: ΔG_hyd, its MBAR error, the legs' ΔG and warnings."""
    edge = transformation(name, simulation)
    protocol = AbsoluteHydrationProtocol.for_transformation(edge)
    started = time.monotonic()
    result = protocol.run_task(edge, repeat=repeat, workdir=workdir, threads=1, cache_dir=cache)
    s = result.summary
    return {
        "molecule": name,
        "repeat": repeat,
        "dg_kcal_mol": s.dg_kcal_mol,
        "mbar_error_kcal_mol": s.dg_mbar_error_kcal_mol,
        "legs_kcal_mol": {leg: x.dg_kcal_mol for leg, x in s.legs.items()},
        "warnings": s.warnings,
        "wall_s": round(time.monotonic() - started, 1),
    }


def _spread(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def generate(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.workdir)
    long = long_settings(args.long_iterations)
    jobs = [(m, "long", r) for m in MOLECULES for r in range(args.long_repeats)]
    jobs += [(m, "short", 100 + r) for m in MOLECULES for r in range(args.short_repeats)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            job: pool.submit(
                run,
                job[0],
                long if job[1] == "long" else SHORT,
                job[2],
                work
                / (
                    f"{job[0]}-long{args.long_iterations}-{job[2]}"
                    if job[1] == "long"
                    else f"{job[0]}-short-{job[2]}"
                ),
                work / "cache",
            )
            for job in jobs
        }
        runs = {job: f.result() for job, f in futures.items()}
    for (m, kind, r), row in runs.items():
        print(
            f"{m:<10} {kind:<5} {r:>3} {row['dg_kcal_mol']:+.3f} ± {row['mbar_error_kcal_mol']:.3f} ({row['wall_s']} s)"
        )
    out: dict[str, Any] = {
        "command": "OPENMM_CPU_THREADS=1 nice -n 10 .venv/bin/python tests/fast_values.py "
        + " ".join(sys.argv[1:]),
        "model": "fast preset: GBSA-OBC2, GAFF2/AM1-BCC, its lambda schedule; pure water",
        "long_settings": long,
        "short_settings": SHORT,
        "molecules": {},
    }
    for m in MOLECULES:
        longs = [runs[(m, "long", r)]["dg_kcal_mol"] for r in range(args.long_repeats)]
        short = [runs[(m, "short", 100 + r)]["dg_kcal_mol"] for r in range(args.short_repeats)]
        long_errors = [runs[(m, "long", r)]["mbar_error_kcal_mol"] for r in range(args.long_repeats)]
        reference = statistics.fmean(longs)
        ref_sigma = max(
            _spread(longs) / math.sqrt(len(longs)), math.sqrt(sum(e * e for e in long_errors)) / len(longs)
        )
        offset = statistics.fmean(short) - reference
        out["molecules"][m] = {
            "smiles": MOLECULES[m],
            "reference_dg_kcal_mol": round(reference, 4),
            "reference_sigma_kcal_mol": round(ref_sigma, 4),
            "long_runs_kcal_mol": [round(v, 4) for v in longs],
            "legs_kcal_mol": runs[(m, "long", 0)]["legs_kcal_mol"],
            "short_runs_kcal_mol": [round(v, 4) for v in short],
            "short_stdev_kcal_mol": round(_spread(short), 4),
            "short_offset_kcal_mol": round(offset, 4),
            "tolerance_kcal_mol": round(tolerance(offset, _spread(short), ref_sigma), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--long-repeats", type=int, default=1)
    parser.add_argument("--long-iterations", type=int, default=LONG_ITERATIONS, help="2 ps each")
    parser.add_argument("--short-repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workdir", default="bench/out/fast_values")
    parser.add_argument("--out", default=str(REFERENCE))
    args = parser.parse_args()
    started = time.monotonic()
    data = generate(args)
    data["wall_s"] = round(time.monotonic() - started)
    Path(args.out).write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {args.out} in {data['wall_s']} s")


if __name__ == "__main__":
    main()

"""Hydration free energies against FreeSolv: published parameters, our own, and the fast preset.

    # explicit TIP3P/PME, published GAFF parameters (hours on CPU; minutes on a GPU)
    .venv/bin/python bench/hydration_accuracy.py explicit --molecules methane methanol toluene
    # on a small CPU machine: fewer iterations, one thread per molecule, all at once
    .venv/bin/python bench/hydration_accuracy.py explicit --molecules methane methanol toluene \
        --iterations 30 --equilibration-ps 20 --jobs 3 --threads 1
    # the same molecules with our own GAFF 1.x / AM1-BCC parameters
    .venv/bin/python bench/hydration_accuracy.py explicit --params own --molecules methane methanol toluene
    # the fast preset (GBSA-OBC2) against experiment over 10 molecules, 2 at a time
    .venv/bin/python bench/hydration_accuracy.py fast --count 10 --jobs 2
    # the production preset as it is (TIP3P/PME, openfe's 14 windows, 5 ns per state), published
    # FreeSolv parameters, the whole development set (40 molecules): for a GPU, one molecule at a time
    .venv/bin/python bench/hydration_accuracy.py production --count 40 --platform CUDA
    # the same, a dry run that only shows it starts and finishes (1 molecule, 3 states, 4 iterations)
    .venv/bin/python bench/hydration_accuracy.py production --dry-run

The production mode prints MAE and RMSE against FreeSolv's published calculated values (and against
experiment) with 95 % percentile-bootstrap intervals (fepflow.analysis.statistics: molecules resampled,
each value drawn within its own error bar).

Each finished molecule is appended to bench/out/hydration_accuracy.jsonl as it completes (so a run
stopped part way keeps what finished), and a table with MAE against the published calculated values
and experiment is printed at the end. Work folders are kept, so a re-run resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from fepflow.data.freesolv import entries, entry, published_parameters
from fepflow.models import ChemicalSystem, SmallMoleculeComponent, SolventComponent, Transformation
from fepflow.protocols.absolute.hydration import AbsoluteHydrationProtocol

OUT = Path(__file__).resolve().parent / "out"
DRY_RUN_LAMBDAS = {"electrostatics": [1.0, 0.0, 0.0], "sterics": [1.0, 1.0, 0.0]}
DRY_RUN_SIMULATION = {
    "steps_per_iteration": 10,
    "equilibration_ps": 0.04,
    "production_iterations": 4,
    "checkpoint_interval_iterations": 2,
    "minimize_max_iterations": 50,
}


def one(
    name: str,
    mode: str,
    params: str,
    iterations: int | None,
    platform: str | None,
    threads: int | None,
    equilibration_ps: float | None = None,
) -> dict[str, Any]:
    e = entry(name)
    overrides: dict[str, Any] = {}
    if iterations:
        # checkpoints that divide the run, so a later, longer run resumes from its last iteration
        overrides.setdefault("simulation", {}).update(
            production_iterations=iterations, checkpoint_interval_iterations=math.gcd(iterations, 10)
        )
    if equilibration_ps is not None:
        overrides.setdefault("simulation", {})["equilibration_ps"] = equilibration_ps
    if params == "own" and mode == "explicit":  # compare like with like: GAFF 1.x, as published
        overrides.setdefault("system", {})["forcefield"] = "gaff"
    if mode == "dry-run":  # production's system and parameters, sampling cut to the bone
        overrides = {"lambdas": DRY_RUN_LAMBDAS, "simulation": DRY_RUN_SIMULATION}
    settings = AbsoluteHydrationProtocol.preset_settings(
        "fast" if mode == "fast" else "production", **overrides
    )
    water = SolventComponent(ion_concentration_molar=0.0)
    ligand = SmallMoleculeComponent.from_smiles(e.smiles, e.name)
    a = ChemicalSystem(name=f"{e.name} in water", components={"ligand": ligand, "solvent": water})
    b = ChemicalSystem(name=f"{e.name} decoupled", components={"solvent": water})
    edge = Transformation(state_a=a, state_b=b, protocol="absolute-hydration", settings=settings)
    protocol = AbsoluteHydrationProtocol.for_transformation(edge)
    workdir = OUT / "hydration_accuracy" / f"{mode}-{params}-{e.mobley_id}"
    started = time.monotonic()
    shown: dict[str, int] = {}

    def report(unit: str, done: int, total: int) -> None:  # a line per unit and per tenth of it
        step = max(1, total // 10)
        if unit not in shown or done == total or done - shown[unit] >= step:
            shown[unit] = done
            print(f"  {e.name}: {unit} {done}/{total} ({time.monotonic() - started:.0f} s)", flush=True)

    result = protocol.run_task(
        edge,
        repeat=0,
        workdir=workdir,
        platform=platform,
        threads=threads if threads else (1 if mode == "fast" else None),
        ligand_parameters=published_parameters(e.name) if params == "published" else None,
        cache_dir=OUT / "ligand-cache",
        progress=report,
    )
    s = result.summary
    row = {
        "molecule": e.name,
        "id": e.mobley_id,
        "mode": mode,
        "params": params,
        "dg_kcal_mol": s.dg_kcal_mol,
        "error_kcal_mol": s.dg_mbar_error_kcal_mol,
        "published_calc": e.calc_gaff_kcal_mol,
        "expt": e.expt_kcal_mol,
        "ns_per_state": s.sampling_ns_per_state,
        "platform": s.platform,
        "wall_s": time.monotonic() - started,
        "warnings": s.warnings,
    }
    OUT.mkdir(exist_ok=True)
    with open(OUT / "hydration_accuracy.jsonl", "a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(
        f"  {e.name:<22} {row['dg_kcal_mol']:+6.2f} ± {row['error_kcal_mol']:.2f}  published "
        f"{e.calc_gaff_kcal_mol:+6.2f}  expt {e.expt_kcal_mol:+6.2f}  ({row['wall_s']:.0f} s)",
        flush=True,
    )
    return row


def table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print(f"\n{'molecule':<22} {'ΔG_hyd':>8} {'±':>5} {'published':>9} {'expt':>6}")
    print("(±: each molecule's single run, its MBAR error: likely understated)")
    for r in rows:
        print(
            f"{r['molecule']:<22} {r['dg_kcal_mol']:+8.2f} {r['error_kcal_mol']:5.2f} "
            f"{r['published_calc']:+9.2f} {r['expt']:+6.2f}"
        )
    n = len(rows)
    mae_calc = sum(abs(r["dg_kcal_mol"] - r["published_calc"]) for r in rows) / n
    mae_expt = sum(abs(r["dg_kcal_mol"] - r["expt"]) for r in rows) / n
    within = sum(abs(r["dg_kcal_mol"] - r["published_calc"]) <= 0.5 for r in rows)
    print(
        f"MAE vs published calc {mae_calc:.2f}, vs experiment {mae_expt:.2f} kcal/mol over {n} molecules; "
        f"{within}/{n} within 0.5 kcal/mol of the published value"
    )
    intervals(rows)


def intervals(rows: list[dict[str, Any]]) -> None:
    """MAE and RMSE with 95 % bootstrap intervals, against the published values and experiment."""
    from fepflow.analysis.statistics import bootstrap, mue, rmse
    from fepflow.data.freesolv import entry

    calc = [r["dg_kcal_mol"] for r in rows]
    sigma = [r["error_kcal_mol"] for r in rows]
    for label, key, err in (
        ("published calc.", "published_calc", "calc_err_kcal_mol"),
        ("experiment", "expt", "expt_err_kcal_mol"),
    ):
        ref = [r[key] for r in rows]
        ref_sigma = [getattr(entry(r["molecule"]), err) for r in rows]
        for name, fn in (("MAE", mue), ("RMSE", rmse)):
            stat = bootstrap(fn, calc, ref, sigma, ref_sigma)
            if stat is not None:
                print(
                    f"{name} vs {label}: {stat.value:.2f} kcal/mol [{stat.low:.2f}, {stat.high:.2f}] (95 %)"
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["explicit", "fast", "production"])
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="production: one molecule, 3 states, 4 iterations of 10 steps (shows the mode runs)",
    )
    parser.add_argument("--molecules", nargs="*", help="FreeSolv names (default: the smallest --count)")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument(
        "--params",
        choices=["published", "own"],
        default=None,
        help="published GAFF parameters, or our own (explicit: GAFF 1.x/AM1-BCC like the "
        "published ones; fast: the preset's GAFF2/AM1-BCC). Default: published for "
        "explicit, own for fast",
    )
    parser.add_argument("--iterations", type=int, help="override production iterations per state")
    parser.add_argument("--equilibration-ps", type=float, help="override equilibration before sampling, ps")
    parser.add_argument("--platform", help="OpenMM platform (default: fastest that works)")
    parser.add_argument("--jobs", type=int, default=1, help="molecules run at once")
    parser.add_argument(
        "--threads", type=int, help="CPU threads per molecule (default: 1 for fast, all for explicit)"
    )
    args = parser.parse_args()
    params = args.params or ("own" if args.mode == "fast" else "published")
    names = args.molecules or [e.name for e in sorted(entries(), key=lambda e: e.heavy_atoms)[: args.count]]
    mode = args.mode
    if args.mode == "production":  # the preset exactly as users get it (no overrides), or a dry run
        mode = "dry-run" if args.dry_run else "production"
        args.iterations = args.equilibration_ps = None
        names = names[:1] if args.dry_run else names
    print(f"hydration accuracy: {args.mode} preset, {params} parameters, {len(names)} molecules", flush=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            n: pool.submit(
                one, n, mode, params, args.iterations, args.platform, args.threads, args.equilibration_ps
            )
            for n in names
        }
        rows = []
        for name, f in futures.items():
            try:
                rows.append(f.result())
            except Exception as exc:  # report and go on with the others
                print(f"  {name}: failed: {exc}", file=sys.stderr, flush=True)
    table(rows)
    if args.dry_run:
        print("dry run: 3 states, 4 iterations of 10 steps; the numbers above mean nothing")


if __name__ == "__main__":
    main()

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["explicit", "fast"])
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
    params = args.params or ("published" if args.mode == "explicit" else "own")
    names = args.molecules or [e.name for e in sorted(entries(), key=lambda e: e.heavy_atoms)[: args.count]]
    print(f"hydration accuracy: {args.mode} preset, {params} parameters, {len(names)} molecules", flush=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            n: pool.submit(
                one, n, args.mode, params, args.iterations, args.platform, args.threads, args.equilibration_ps
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


if __name__ == "__main__":
    main()

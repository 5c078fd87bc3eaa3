"""Relative hydration free energies of FreeSolv pairs against the published GAFF differences and experiment.

    # production length, explicit TIP3P, published GAFF parameters (hours on CPU; minutes on a GPU)
    .venv/bin/python bench/relative_hydration_pairs.py --pairs ethane:methanol benzene:toluene toluene:phenol
    # a cycle, so that its closure is reported too
    .venv/bin/python bench/relative_hydration_pairs.py --pairs methane:ethane ethane:methanol methane:methanol
    # shorter: the fast preset, or any number of iterations per window
    .venv/bin/python bench/relative_hydration_pairs.py --preset fast --pairs ethane:methanol

Each finished pair is appended to bench/out/relative_hydration.jsonl; at the end a table compares
ΔΔG with FreeSolv's published GAFF difference (same parameters: the figure that tests the method)
and with experiment, and the network estimate reports every cycle's closure. Work folders are kept
under bench/out/relative/, so a re-run resumes. Prints figures; never fails on a number.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from fepflow.analysis.network import estimate_network
from fepflow.data.freesolv import entry, published_parameters
from fepflow.models import SmallMoleculeComponent
from fepflow.planning import plan_network
from fepflow.protocols.relative.hydration import RelativeHydrationProtocol

OUT = Path(__file__).resolve().parent / "out"


def run_pair(a: str, b: str, preset: str, iterations: int | None, platform: str | None) -> dict[str, Any]:
    overrides: dict[str, Any] = {"simulation": {"production_iterations": iterations}} if iterations else {}
    settings = RelativeHydrationProtocol.preset_settings(preset, **overrides)
    ligands = [SmallMoleculeComponent.from_smiles(entry(n).smiles, n) for n in (a, b)]
    (edge,) = plan_network(ligands, edges=[(a, b)], settings=settings).edges
    params = {n: published_parameters(n) for n in (a, b)}
    started = time.monotonic()
    result = RelativeHydrationProtocol.for_transformation(edge).run_task(
        edge,
        repeat=0,
        workdir=OUT / "relative" / preset / f"{a}--{b}",
        platform=platform,
        ligand_parameters=params,
    )
    s = result.summary
    return {
        "a": a,
        "b": b,
        "preset": preset,
        "ddg_kcal_mol": s.dg_kcal_mol,
        "error_kcal_mol": s.dg_mbar_error_kcal_mol,
        "published_gaff_difference": entry(b).calc_gaff_kcal_mol - entry(a).calc_gaff_kcal_mol,
        "published_gaff_error": math.hypot(entry(a).calc_err_kcal_mol, entry(b).calc_err_kcal_mol),
        "experimental_difference": entry(b).expt_kcal_mol - entry(a).expt_kcal_mol,
        "windows": s.setup["n_windows"],
        "min_overlap": min(leg.min_neighbour_overlap or 0.0 for leg in s.legs.values()),
        "solvent_ns_per_day": s.legs["solvent"].ns_per_day,
        "platform": s.platform,
        "wall_s": time.monotonic() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pairs", nargs="+", default=["ethane:methanol", "benzene:toluene", "toluene:phenol"]
    )
    parser.add_argument("--preset", choices=["fast", "production"], default="production")
    parser.add_argument("--iterations", type=int, default=None, help="production iterations per window")
    parser.add_argument("--platform", default=None)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for pair in args.pairs:
        a, b = pair.split(":")
        row = run_pair(a, b, args.preset, args.iterations, args.platform)
        rows.append(row)
        with (OUT / "relative_hydration.jsonl").open("a") as handle:
            handle.write(json.dumps(row) + "\n")
    print(
        f"{'pair':28s} {'ΔΔG':>14s} {'GAFF (pub.)':>14s} {'dev/σ':>6s} {'expt':>7s} {'win':>4s} {'ns/day':>7s}"
    )
    for r in rows:
        sigma = math.hypot(r["error_kcal_mol"], r["published_gaff_error"]) or float("nan")
        dev = abs(r["ddg_kcal_mol"] - r["published_gaff_difference"]) / sigma
        print(
            f"{r['a'] + ' -> ' + r['b']:28s} {r['ddg_kcal_mol']:7.2f} ± {r['error_kcal_mol']:4.2f} "
            f"{r['published_gaff_difference']:7.2f} ± {r['published_gaff_error']:4.2f} {dev:6.2f} "
            f"{r['experimental_difference']:7.2f} {r['windows']:4d} {r['solvent_ns_per_day']:7.1f}"
        )
    try:
        estimate = estimate_network([(r["a"], r["b"], r["ddg_kcal_mol"], r["error_kcal_mol"]) for r in rows])
    except ValueError as exc:
        print(f"no network estimate: {exc}")
        return
    for cycle in estimate.cycles:
        print(f"cycle {' -> '.join(cycle.nodes)}: closure {cycle.closure:+.2f} ± {cycle.sigma:.2f} kcal/mol")


if __name__ == "__main__":
    main()

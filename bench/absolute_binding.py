"""Absolute binding free energies of the T4 lysozyme L99A ligands against experiment — meant for a GPU.

    # the production preset (TIP3P with ions, NPT, 19 complex + 11 solvent states, 5 ns per state,
    # restraint chosen from 200 ps): for a GPU, hours per ligand
    .venv/bin/python bench/absolute_binding.py --platform CUDA
    # the fast preset (100 ps per state) on two ligands
    .venv/bin/python bench/absolute_binding.py --preset fast --ligands benzene toluene --platform CUDA
    # a dry run that only shows it starts and finishes on a CPU (the smoke preset, one ligand):
    # 68 s for benzene on the shared 2-core machine, 1 thread
    .venv/bin/python bench/absolute_binding.py --dry-run --platform CPU --threads 1

The campaign is planned the one way (:func:`fepflow.planning.plan_campaign` of the repository's
``fepflow/data/t4l99a`` PDB, SDF and experimental CSV, as ``fepflow plan --protocol absolute-binding``
plans it), each ligand's task run by the protocol here (no stack). For each ligand it prints
ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint with the three contributions, the restraint's
anchors, experiment (ITC, Morton & Matthews 1995) and the difference; then the MAE and RMSE. openfe's
users report -3.1 to -4.6 kcal/mol for toluene against -5.52 measured. Each finished ligand is
appended to bench/out/absolute_binding.jsonl; work folders are kept, so a re-run resumes.

On a CPU the production preset takes days per ligand: the script says so and starts anyway (the
first units run, and a run stopped part way resumes on a GPU machine from its work folder).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from fepflow.data import t4l99a
from fepflow.engine.platforms import choose_platform
from fepflow.planning import CampaignRequest, plan_campaign, read_experimental_csv
from fepflow.protocols.absolute.binding import AbsoluteBindingProtocol

OUT = Path(__file__).resolve().parent / "out"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="production", choices=sorted(AbsoluteBindingProtocol.presets))
    parser.add_argument("--ligands", nargs="+", default=list(t4l99a.LIGANDS), choices=list(t4l99a.LIGANDS))
    parser.add_argument("--platform", default=None, help="CUDA, OpenCL, CPU or Reference (default: fastest)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (CPU platform)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=OUT / "absolute_binding")
    parser.add_argument(
        "--dry-run", action="store_true", help="smoke preset, first ligand only: starts and ends"
    )
    return parser.parse_args()


def _plan(preset: str, ligands: list[str], repeats: int) -> tuple[list[Any], dict[str, float]]:
    sdf = "".join(
        record + "$$$$\n"
        for record in t4l99a.ligands_sdf().split("$$$$\n")
        if record.strip() and record.strip().splitlines()[0].strip() in ligands
    )
    experimental = read_experimental_csv(t4l99a.experimental_csv())
    plan = plan_campaign(
        CampaignRequest(
            protocol="absolute-binding",
            sdf=sdf,
            protein_pdb=t4l99a.protein_pdb(),
            protein_name="T4L99A",
            preset=preset,
            repeats=repeats,
            experimental=[v for v in experimental if v.ligand in ligands],
        )
    )
    return list(plan.network.edges), {v.ligand: v.dg_kcal_mol for v in plan.experimental}


def _run(transformation: Any, repeat: int, args: argparse.Namespace) -> dict[str, Any]:
    protocol = AbsoluteBindingProtocol.for_transformation(transformation)
    ligand = protocol.ligand_of(transformation).name
    started = time.monotonic()
    result = protocol.run_task(
        transformation,
        repeat=repeat,
        workdir=args.workdir / f"{ligand}.repeat-{repeat}",
        platform=args.platform,
        threads=args.threads,
        cache_dir=args.workdir / "parameters",
        progress=lambda unit, done, total: print(f"  {ligand} {unit} {done}/{total}", flush=True),
    )
    summary = result.summary.to_stored()
    return {
        "ligand": ligand,
        "repeat": repeat,
        "preset": args.preset,
        "platform": summary.get("platform"),
        "dg_bind_kcal_mol": summary["dg_kcal_mol"],
        "mbar_error_kcal_mol": summary["dg_mbar_error_kcal_mol"],
        **{k: v for k, v in summary["contributions"].items() if k.endswith("_kcal_mol")},
        "restraint_atoms": summary["restraint"].get("labels"),
        "warnings": summary.get("warnings", []),
        "wall_s": time.monotonic() - started,
    }


def _report(rows: list[dict[str, Any]], measured: dict[str, float]) -> None:
    print(
        f"\n{'ligand':10} {'ΔG_bind':>8} {'±MBAR':>6} {'ΔG_solv':>8} {'ΔG_cplx':>8} {'ΔG_rest':>8} "
        f"{'expt':>7} {'diff':>6}  (kcal/mol)"
    )
    errors = []
    for row in rows:
        expt = measured.get(row["ligand"])
        diff = row["dg_bind_kcal_mol"] - expt if expt is not None else math.nan
        if expt is not None:
            errors.append(diff)
        print(
            f"{row['ligand']:10} {row['dg_bind_kcal_mol']:+8.2f} {row['mbar_error_kcal_mol']:6.2f} "
            f"{row['solvent_kcal_mol']:+8.2f} {row['complex_kcal_mol']:+8.2f} "
            f"{row['restraint_correction_kcal_mol']:+8.2f} {expt if expt is not None else math.nan:+7.2f} {diff:+6.2f}"
        )
        print(f"{'':10} restraint: {', '.join(row['restraint_atoms'] or [])}; {row['wall_s']:.0f} s")
    if errors:
        mae = sum(abs(e) for e in errors) / len(errors)
        rmse = math.sqrt(sum(e * e for e in errors) / len(errors))
        print(f"MAE {mae:.2f}, RMSE {rmse:.2f} kcal/mol over {len(errors)} ligand(s) against ITC")


def main() -> None:
    args = _arguments()
    if args.dry_run:
        args.preset, args.ligands = "smoke", args.ligands[:1]
    platform = choose_platform(args.platform, threads=args.threads)
    if not platform.is_gpu and args.preset != "smoke":
        print(
            f"note: running the {args.preset} preset on {platform.name}. This benchmark is meant for a GPU "
            "(CUDA or OpenCL): on a CPU the production preset takes days per ligand. Starting anyway; the work "
            f"folders in {args.workdir} resume on a GPU machine."
        )
    transformations, measured = _plan(args.preset, args.ligands, args.repeats)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for transformation in transformations:
        for repeat in range(args.repeats):
            row = _run(transformation, repeat, args)
            rows.append(row)
            with (OUT / "absolute_binding.jsonl").open("a") as out:
                out.write(json.dumps(row) + "\n")
    if args.preset == "smoke":
        print("smoke preset: sampled far too briefly for these numbers to mean anything")
    _report(rows, measured)


if __name__ == "__main__":
    main()

"""The ``fast`` preset's values and compute per task, as ``make demo`` runs them, against the code before issue 16.

For each molecule (default: the demo's four) one task of the absolute hydration protocol runs in this
process (setup with GAFF2/AM1-BCC, cached per molecule after the first run; both legs; the analysis),
without the stack or Dagster:

- ``new``: the ``fast`` preset as it is (a molecule alone decoupled with plain forces, 500 steps per
  iteration, sampling until the MBAR error of each leg is 0.05 kcal/mol, at most 200 iterations);
- ``old``: the ``fast`` preset as it was (openmmtools' alchemical forces, 200 iterations of 50 steps,
  no stopping rule), on the platform given by ``--old-platform`` (Reference is what the protocol
  used; CPU gives the same Hamiltonian about 5 x faster for these molecules).

It prints ΔG_hyd ± MBAR error, each leg's iterations and why it stopped, each task's wall and CPU
seconds (CPU: this process and the tools it ran; on a loaded machine, what the task would take on an
idle core), and, with both modes, each difference in combined standard errors. It never fails on a
number.

    .venv/bin/python bench/fast_preset_values.py [--modes new old] [--molecules methanol ethane ...]
        [--old-platform Reference|CPU]
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

OLD_SIMULATION = {
    "steps_per_iteration": 50,
    "equilibration_ps": 10.0,
    "production_iterations": 200,
    "checkpoint_interval_iterations": 50,
    "target_error_kcal_mol": None,
    "min_production_iterations": 0,
}
"""The ``fast`` preset's ``simulation`` section before issue 16 (timestep and HMR unchanged)."""


def use_old_engine(platform_name: str) -> None:
    """openmmtools' alchemical forces for every leg, on ``platform_name`` (as before issue 16)."""
    import fepflow.protocols.absolute.simulate as simulate
    from fepflow.engine.alchemical import build_alchemical_states
    from fepflow.engine.platforms import choose_platform

    simulate.build_alchemical_states = functools.partial(  # type: ignore[assignment]
        build_alchemical_states, plain_forces_when_isolated=False
    )
    choice = choose_platform(platform_name, threads=1 if platform_name == "CPU" else None)
    simulate.leg_platform = lambda n_atoms, periodic, chosen: choice  # type: ignore[assignment]


def run_one(name: str, smiles: str, mode: str, cache: Path) -> dict[str, Any]:
    from fepflow.models import ChemicalSystem, SmallMoleculeComponent, SolventComponent, Transformation
    from fepflow.protocols.absolute.hydration import AbsoluteHydrationProtocol

    overrides = {"simulation": OLD_SIMULATION} if mode == "old" else {}
    ligand = SmallMoleculeComponent.from_smiles(smiles, name)
    water = SolventComponent()
    edge = Transformation(
        state_a=ChemicalSystem(name=f"{name} in water", components={"ligand": ligand, "solvent": water}),
        state_b=ChemicalSystem(name=f"{name} decoupled", components={"solvent": water}),
        protocol="absolute-hydration",
        settings=AbsoluteHydrationProtocol.preset_settings("fast", **overrides),
    )
    began, cpu_began = time.perf_counter(), sum(os.times()[:4])
    with tempfile.TemporaryDirectory() as workdir:
        result = AbsoluteHydrationProtocol.for_transformation(edge).run_task(
            edge, repeat=0, workdir=Path(workdir), cache_dir=cache, threads=1
        )
    summary = result.summary
    legs = {leg: s.model_dump() for leg, s in (summary.legs or {}).items()}
    return {
        "dg": summary.dg_kcal_mol,
        "err": summary.dg_mbar_error_kcal_mol,
        "wall_s": time.perf_counter() - began,
        "cpu_s": sum(os.times()[:4]) - cpu_began,  # this process and its tools (antechamber, sqm, tleap)
        "legs": legs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", choices=("new", "old"), default=["new"])
    parser.add_argument("--molecules", nargs="+", default=["methanol", "ethane", "toluene", "phenol"])
    parser.add_argument("--old-platform", default="Reference", choices=("Reference", "CPU"))
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "fepflow-bench-ligands")
    args = parser.parse_args()
    from fepflow.data.freesolv import entries

    smiles = {e.name: e.smiles for e in entries()}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    print(f"load average at start {os.getloadavg()[0]:.1f}")
    for mode in args.modes:  # "new" first: the old engine is patched in for the rest of the process
        if mode == "old":
            use_old_engine(args.old_platform)
        for name in args.molecules:
            row = run_one(name, smiles[name], mode, args.cache)
            results.setdefault(name, {})[mode] = row
            legs = "; ".join(
                f"{leg} {s['dg_kcal_mol']:+.3f} ± {s['dg_mbar_error_kcal_mol']:.3f}, {s['n_iterations']} it "
                f"({s.get('stop_reason', '?')}), sampling {s.get('sampling_s') or 0:.1f} s"
                for leg, s in row["legs"].items()
            )
            print(
                f"{mode:>3} {name:<9} ΔG_hyd {row['dg']:+.3f} ± {row['err']:.3f} kcal/mol; task {row['wall_s']:.1f} s, "
                f"CPU {row['cpu_s']:.1f} s "
                f"(load {os.getloadavg()[0]:.1f}); {legs}",
                flush=True,
            )
    if len(args.modes) == 2:
        print("\nnew - old, in combined standard errors:")
        for name, modes in results.items():
            new, old = modes["new"], modes["old"]
            sigma = math.hypot(new["err"], old["err"])
            print(
                f"  {name:<9} {new['dg'] - old['dg']:+.3f} kcal/mol = {(new['dg'] - old['dg']) / sigma:+.1f} σ; "
                f"task {new['wall_s']:.1f} s vs {old['wall_s']:.1f} s"
            )


if __name__ == "__main__":
    main()

"""``make demo``: a FreeSolv hydration network built, validated, submitted to the index and archived.

The demo uses the embedded stack's MongoDB when ``make dev`` is running, and otherwise starts one of
its own for the length of the demo (data under ``.fepflow/``, kept for the next run). Simulation of
the submitted tasks arrives with the hydration protocol and the Dagster assets.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fepflow.data.freesolv import FreeSolvEntry, entries
from fepflow.devstack.processes import ManagedProcess, port_open
from fepflow.devstack.servers import mongo_process
from fepflow.devstack.stack import config_from_env
from fepflow.models import AlchemicalNetwork, SmallMoleculeComponent, to_json
from fepflow.planner import absolute_network
from fepflow.settings import ObjectStoreSettings
from fepflow.store.index import Index
from fepflow.store.objects import open_object_store

DEFAULT_MOLECULES = ("methanol", "ethane", "toluene", "phenol", "acetic acid")


def hydration_network(rows: list[FreeSolvEntry], name: str = "FreeSolv demo") -> AlchemicalNetwork:
    """One absolute hydration transformation per molecule: solvated -> decoupled."""
    ligands = [SmallMoleculeComponent.from_smiles(row.smiles, row.name) for row in rows]
    return absolute_network(ligands, name=name, protocol="absolute-hydration")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fepflow.demo", description=__doc__)
    parser.add_argument(
        "--molecules",
        nargs="+",
        default=list(DEFAULT_MOLECULES),
        help="FreeSolv development-set names (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    console = Console()
    rows = {r.name: r for r in entries()}
    unknown = [m for m in args.molecules if m not in rows]
    if unknown:
        console.print(
            f"[red]not in the FreeSolv development set:[/] {', '.join(unknown)}; "
            f"choose from: {', '.join(sorted(rows))}"
        )
        return 2
    chosen = [rows[m] for m in args.molecules]

    console.rule("[bold]fepflow demo: absolute hydration free energies, FreeSolv development set")
    network = hydration_network(chosen)
    table = Table(
        title=f"network {network.name!r}: {len(network.nodes)} systems, {len(network.edges)} edges "
        "(ΔG_hyd in kcal/mol)"
    )
    for col in ("molecule", "SMILES", "charge", "atoms", "expt ΔG_hyd", "published calc"):
        table.add_column(col)
    for row in chosen:
        mol = SmallMoleculeComponent.from_smiles(row.smiles, row.name)
        table.add_row(
            row.name,
            row.smiles,
            f"{mol.formal_charge:+d}",
            str(mol.n_atoms),
            f"{row.expt_kcal_mol:+.2f}",
            f"{row.calc_gaff_kcal_mol:+.2f}",
        )
    console.print(table)
    console.print(f"network key [cyan]{network.key}[/]")

    config = config_from_env()
    own_server: ManagedProcess | None = None
    if port_open(config.host, config.mongo_port):
        console.print(f"using the running embedded MongoDB at {config.mongo_url}")
    else:
        _, own_server = mongo_process(
            config.home / "mongo",
            host=config.host,
            port=config.mongo_port,
            log_path=config.home / "logs" / "mongodb.log",
            pid_path=config.home / "pids" / "mongodb.pid",
        )
        own_server.start()
        console.print(f"started MongoDB (secantusdb) at {config.mongo_url}; data in {config.home / 'mongo'}")
    index = Index.connect(config.mongo_url, "fepflow")
    try:
        index.ensure_indexes()
        started = time.perf_counter()
        first = index.submit_network(network, scope="demo-freesolv-hydration")
        took = time.perf_counter() - started
        again = index.submit_network(network, scope="demo-freesolv-hydration")
        created = (
            ", ".join(f"{n} {k}" for k, n in first.created.items() if n) or "nothing (already submitted)"
        )
        console.print(f"submitted in {took * 1000:.0f} ms: created {created}")
        console.print(f"submitted again: created {sum(again.created.values())} documents (same keys reused)")
        counts = index.tasks.counts(network.key)
        console.print("tasks by state: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))

        store = open_object_store(ObjectStoreSettings(url=config.objects_url))
        ref = store.put_bytes(to_json(network, indent=1).encode())
        back = store.get_bytes(ref.key)  # verified against its sha256 on read
        console.print(
            f"network archived: {ref.uri} ({ref.size_bytes:,} bytes, sha256 verified on read back: "
            f"{len(back) == ref.size_bytes})"
        )
    finally:
        index.close()
        if own_server is not None:
            own_server.stop()
    console.rule()
    console.print(
        "Next: `make dev` starts Dagit and the hub on this data. Running submitted tasks through Dagster "
        "comes with the orchestration work; one task already runs from Python (README: 'A hydration "
        "free energy', about 3 minutes per molecule with the fast preset)."
    )
    console.print(f"State lives in {Path(config.home)}; `make clean` removes it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

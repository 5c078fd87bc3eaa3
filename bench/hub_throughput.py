"""Hub throughput: submit a 2,000-transformation network and fetch all its results; then the status
endpoint under 50 concurrent clients (requests/s, p50, p99).

Runs the real hub (uvicorn, one process unless --api-workers) on its own MongoDB wire-protocol
server (secantusdb; FEPFLOW_BENCH_MONGO_URL for a real mongod) and a file object store, all in a
temporary folder. Results are written straight into MongoDB for every task (the simulations are not
what is measured). Prints figures; never fails on a number.

    .venv/bin/python bench/hub_throughput.py [--molecules 2000] [--clients 50] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pymongo import UpdateOne
from rdkit import Chem, RDLogger

from fepflow.devstack.processes import ManagedProcess, free_port
from fepflow.devstack.servers import mongo_process
from fepflow.hub.client import Client
from fepflow.models.results import SUMMARY_VERSION
from fepflow.models.states import TaskStatus
from fepflow.models.tasks import utcnow
from fepflow.store.index import Index
from fepflow.store.results import result_key

SCOPE = "bench-hub-p1"
TARGET_S = 5.0


def molecules(n: int) -> list[tuple[str, str]]:
    """``n`` distinct small molecules (canonical SMILES), built combinatorially."""
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    heads = ["", "C", "CC", "CC(C)", "c1ccccc1", "C1CC1", "C1CCCC1", "OC", "NC", "FC", "ClC", "c1ccncc1"]
    tails = ["", "O", "N", "F", "Cl", "Br", "C(=O)O", "C#N", "S", "C(=O)N", "OC", "C=C", "C(F)(F)F"]
    seen: dict[str, str] = {}
    for length in range(1, 40):
        for head in heads:
            for tail in tails:
                mol = Chem.MolFromSmiles(head + "C" * length + tail)
                if mol is None:
                    continue
                smiles = Chem.MolToSmiles(mol)
                if smiles not in seen:
                    seen[smiles] = f"mol{len(seen):05d}"
                if len(seen) == n:
                    return [(name, smi) for smi, name in seen.items()]
    raise RuntimeError(f"could only make {len(seen)} molecules")


def complete_all(index: Index, network: str) -> int:
    """Mark every task of ``network`` complete with a result document (bulk writes; not timed)."""
    rng = random.Random(7)
    results, updates = [], []
    for t in index.tasks.coll.find({"networks": network}, {"transformation": 1, "repeat": 1}):
        sha = hashlib.sha256(t["_id"].encode()).hexdigest()
        key = result_key(t["_id"], sha)
        summary = {
            "summary_version": SUMMARY_VERSION,
            "dg_kcal_mol": rng.uniform(-10, 2),
            "dg_mbar_error_kcal_mol": rng.uniform(0.1, 0.5),
            "ligand": t["_id"][-6:],
        }
        results.append(
            UpdateOne(
                {"_id": key},
                {
                    "$set": {
                        "task": t["_id"],
                        "transformation": t["transformation"],
                        "repeat": t["repeat"],
                        "bundle_sha256": sha,
                        "size_bytes": 1000,
                        "drs_id": None,
                        "summary": summary,
                        "created_at": utcnow(),
                    }
                },
                upsert=True,
            )
        )
        ref = {"result_key": key, "bundle_sha256": sha, "size_bytes": 1000, "drs_id": None}
        updates.append(
            UpdateOne({"_id": t["_id"]}, {"$set": {"status": TaskStatus.COMPLETE.value, "result": ref}})
        )
    index.results.coll.bulk_write(results, ordered=False)
    index.tasks.coll.bulk_write(updates, ordered=False)
    return len(updates)


async def hammer(
    base: str, path: str, token: str, clients: int, total: int, warmup: int = 0
) -> tuple[float, list[float], int]:
    """``clients`` concurrent loops of GETs sharing one connection pool; the first ``warmup``
    requests (which open the connections) are not counted."""
    latencies: list[float] = []
    errors = 0
    per_client = total // clients
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        headers = {"Authorization": f"Bearer {token}"}

        async def one_client() -> None:
            nonlocal errors
            for _ in range(per_client):
                t0 = time.perf_counter()
                r = await http.get(path, headers=headers)
                latencies.append(time.perf_counter() - t0)
                errors += r.status_code != 200

        await asyncio.gather(*(http.get(path, headers=headers) for _ in range(warmup)))
        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return time.perf_counter() - start, latencies, errors


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--molecules", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="status requests in all")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fepflow-bench-hub-") as tmp:
        root = Path(tmp)
        mongo = None
        url = os.environ.get("FEPFLOW_BENCH_MONGO_URL")
        if not url:
            server, mongo = mongo_process(root / "mongo")
            mongo.start()
            url = server.url
        db = f"bench_{secrets.token_hex(4)}"
        port = free_port()
        env = {
            "FEPFLOW_MONGO_URL": url,
            "FEPFLOW_MONGO_DATABASE": db,
            "FEPFLOW_OBJECTS_URL": f"file://{root / 'objects'}",
            "FEPFLOW_AUTH_SECRET_KEY": secrets.token_urlsafe(48),
            "FEPFLOW_API_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        argv = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(args.api_workers), "--log-level", "warning"]
        hub = ManagedProcess(name="hub", argv=argv, log_path=root / "hub.log", port=port, env=env)
        index = Index.connect(url, db)
        try:
            hub.start()
            base = f"http://127.0.0.1:{port}"
            index.identities.add("bench", "bench-secret-phrase", [SCOPE])
            client = Client(base, timeout_s=300)
            client.login("bench", "bench-secret-phrase")
            ligands = molecules(args.molecules)
            print(f"hub throughput: uvicorn x{args.api_workers}, MongoDB {url}, {os.cpu_count()} CPUs")

            t0 = time.perf_counter()
            sub = client.submit_ligands(ligands, scope=SCOPE, preset="fast", name="bench network")
            submit_s = time.perf_counter() - t0
            print(
                f"  submit {len(sub.transformations)} transformations ({len(sub.tasks)} tasks): "
                f"{submit_s:6.2f} s  (target <= {TARGET_S:.0f} s)"
            )
            t0 = time.perf_counter()
            again = client.submit_ligands(ligands, scope=SCOPE, preset="fast", name="bench network")
            print(
                f"  resubmit, identical (200, same keys={again.network == sub.network}): {time.perf_counter() - t0:6.2f} s"
            )

            n = complete_all(index, sub.network)
            t0 = time.perf_counter()
            res = client.results(sub.network)
            fetch_s = time.perf_counter() - t0
            done = sum(1 for e in res.transformations if e.dg_kcal_mol is not None)
            print(
                f"  fetch all results (JSON), {done}/{n} estimates: {fetch_s:6.2f} s  (target <= {TARGET_S:.0f} s)"
            )
            t0 = time.perf_counter()
            rows = client.results_csv(sub.network).count("\n") - 1
            print(f"  fetch all results (CSV), {rows} rows: {time.perf_counter() - t0:6.2f} s")
            t0 = time.perf_counter()
            tasks = client.tasks(sub.network, page_size=1000)
            print(f"  list all {len(tasks)} tasks (pages of 1000): {time.perf_counter() - t0:6.2f} s")

            path = f"/api/v1/networks/{sub.network}/status"
            token = client.access_token or ""
            cpu0 = time.process_time()
            wall, lat, errors = asyncio.run(
                hammer(base, path, token, args.clients, args.requests, warmup=2 * args.clients)
            )
            client_cpu = time.process_time() - cpu0
            print(
                f"  status under {args.clients} concurrent clients: {len(lat)} requests in {wall:.2f} s = "
                f"{len(lat) / wall:.0f} req/s; p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms; "
                f"errors {errors}"
            )
            print(
                f"    (the {args.clients} load-generating clients used {client_cpu / wall:.0%} of one CPU themselves)"
            )
            client.close()
        finally:
            index.close()
            hub.stop()
            if mongo is not None:
                mongo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

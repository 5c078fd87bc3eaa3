"""Index throughput: insert 10,000 tasks, then move them through their states.

Starts its own MongoDB wire-protocol server (secantusdb) in a temporary folder, or uses
FEPFLOW_BENCH_MONGO_URL (a real mongod) when set. Prints operations per second and ratios measured
in this one run; it never fails on a number.

    .venv/bin/python bench/index_throughput.py [--tasks 10000] [--workers 8]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

from fepflow.devstack.servers import mongo_process
from fepflow.models.states import TaskStatus
from fepflow.models.tasks import Task
from fepflow.store.index import Index


def timed(label: str, n: int, fn: object, results: dict[str, float]) -> None:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    results[label] = n / elapsed
    print(f"  {label:<48} {n:>7} ops in {elapsed:7.2f} s  = {n / elapsed:9.0f} ops/s", flush=True)


def run(url: str, n_tasks: int, workers: int, args_claims: int = 200) -> None:
    db = f"bench_{uuid.uuid4().hex[:8]}"
    index = Index.connect(url, db)
    index.ensure_indexes()
    transformations = [f"Transformation-{i:064x}" for i in range(n_tasks // 5)]
    tasks = [Task.new(t, r, network="AlchemicalNetwork-bench") for t in transformations for r in range(5)]
    results: dict[str, float] = {}
    print(f"index throughput, {n_tasks} tasks, server {url}")
    timed("insert (bulk upsert by key)", len(tasks), lambda: index.tasks.add(tasks, network_key="N"), results)
    timed(
        "resubmit the same tasks (no-op upserts)",
        len(tasks),
        lambda: index.tasks.add(tasks, network_key="N"),
        results,
    )
    keys = [t.key for t in tasks]
    half = n_tasks // 2

    def schedule_by_key() -> None:
        for key in keys[:half]:
            index.tasks.transition(key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)

    timed("waiting -> scheduled by key, 1 client", half, schedule_by_key, results)

    def start_parallel() -> None:
        chunks = [keys[i::workers] for i in range(workers)]

        def work(chunk: list[str]) -> None:
            own = Index.connect(url, db)
            for key in chunk:
                if key in scheduled:
                    own.tasks.start(key)
            own.close()

        threads = [threading.Thread(target=work, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    scheduled = set(keys[:half])
    timed(f"scheduled -> running by key, {workers} clients", half, start_parallel, results)

    n_claims = min(args_claims, n_tasks - half)

    def claim_parallel(batch: int) -> None:
        per = n_claims // workers // batch

        def work() -> None:
            own = Index.connect(url, db)
            for _ in range(per):
                own.tasks.claim(limit=batch)
            own.close()

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    for batch in (1, 25):
        claims = n_claims // workers // batch * workers * batch
        if claims == 0:
            print(f"  claim by priority, batches of {batch}: skipped (--claims below {workers * batch})")
            continue
        timed(
            f"claim by priority, batches of {batch}, {workers} clients",
            claims,
            lambda batch=batch: claim_parallel(batch),
            results,
        )
    timed(
        "status counts for the network (aggregate)",
        20,
        lambda: [index.tasks.counts("N") for _ in range(20)],
        results,
    )
    counts = index.tasks.counts("N")
    print(f"  final counts: {counts}")
    print("ratios (same run):")
    print(
        f"  resubmit / insert speed:                 {results['resubmit the same tasks (no-op upserts)'] / results['insert (bulk upsert by key)']:.2f}"
    )
    print(
        f"  parallel start / serial schedule speed:  {results[f'scheduled -> running by key, {workers} clients'] / results['waiting -> scheduled by key, 1 client']:.2f}"
    )
    index.client.drop_database(db)
    index.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--claims", type=int, default=200, help="tasks claimed by priority in each claim test"
    )
    args = parser.parse_args()
    external = os.environ.get("FEPFLOW_BENCH_MONGO_URL")
    if external:
        run(external, args.tasks, args.workers, args.claims)
        return
    with tempfile.TemporaryDirectory() as tmp:
        server, proc = mongo_process(Path(tmp) / "mongo")
        proc.start()
        try:
            run(server.url, args.tasks, args.workers, args.claims)
        finally:
            proc.stop()


if __name__ == "__main__":
    main()

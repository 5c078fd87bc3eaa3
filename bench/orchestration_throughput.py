"""Orchestration on the embedded stack (real processes: MongoDB wire server, Dagster daemon and
webserver with SQLite, in-process executor): latency, fixed cost per task and drain rate.

1. **Latency**: submit one task at a time on an idle stack and time submission -> first simulation
   step (the task's move to ``running``): p50 and p95 over ``--latency-tasks`` tasks (target: p50 <= 5 s).
2. **Fixed cost**: for the same tasks, wall time from submission to indexed result minus the time the
   protocol spent sampling; reported as a share of a 5-minute task (target <= 1 %).
3. **Drain**: submit ``--drain-tasks`` tasks of about one second at once and time until every one is
   complete: tasks per minute with ``--slots`` CPU slots, and the ratio of the ideal time (the
   tasks' summed sampling time / slots) to the time taken (target >= 0.5).

The machine's load average is printed at the start and the end: on a busy machine every wall-clock
figure is slower, the ratios included. The CPU seconds that the stack's processes (MongoDB, Dagster's
webserver, daemon, code server and run workers, the hub) spend per task are printed too: a busy
machine slows them much less than it slows the wall clock.

Tasks are harmonic-reference simulations (real OpenMM, exact answers). Numbers are from this one run
on this machine; nothing fails on a number.

    .venv/bin/python bench/orchestration_throughput.py [--latency-tasks 20] [--drain-tasks 200] [--slots 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pymongo.errors import AutoReconnect

from fepflow.devstack.processes import free_port
from fepflow.devstack.stack import EmbeddedStack, StackConfig
from fepflow.models import AlchemicalNetwork, ChemicalSystem, SolventComponent, Transformation
from fepflow.store.index import Index

REPO = Path(__file__).resolve().parents[1]


def oscillator_network(n: int, tag: str, iterations: int) -> AlchemicalNetwork:
    water = SolventComponent()
    nodes, edges = [], []
    for i in range(n):
        a = ChemicalSystem(name=f"{tag} {i} A", components={"solvent": water})
        b = ChemicalSystem(name=f"{tag} {i} B", components={"solvent": water})
        k = 1500.0 + i
        nodes += [a, b]
        edges.append(
            Transformation(
                state_a=a,
                state_b=b,
                protocol="harmonic-reference",
                name=f"{tag} {i}",
                settings={"force_constants_kT_per_nm2": [1000.0, k], "production_iterations": iterations},
            )
        )
    return AlchemicalNetwork(name=tag, nodes=nodes, edges=edges)


def wait_for(index: Index, network: str, n: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            counts = index.tasks.counts(network)
        except AutoReconnect:  # a wire server starved of CPU on a loaded machine: ask again
            time.sleep(1.0)
            continue
        if counts["error"]:
            doc = index.tasks.coll.find_one({"networks": network, "status": "error"})
            raise RuntimeError(f"a task failed: {doc and doc.get('last_error')}")
        if counts["complete"] >= n:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{n} tasks not complete after {timeout_s} s: {index.tasks.counts(network)}")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent PID, CPU seconds of the process and of its children it has waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(roots: list[int]) -> float:
    """CPU seconds of the processes under ``roots`` (themselves included), living or reaped."""
    stats = {int(p): _stat(int(p)) for p in os.listdir("/proc") if p.isdigit()}
    children: dict[int, list[int]] = {}
    for pid, st in stats.items():
        if st is not None:
            children.setdefault(st[0], []).append(pid)
    total, todo, seen = 0.0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen or stats.get(pid) is None:
            continue
        seen.add(pid)
        total += stats[pid][1]  # type: ignore[index]
        todo.extend(children.get(pid, []))
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-tasks", type=int, default=20)
    parser.add_argument("--drain-tasks", type=int, default=200)
    parser.add_argument("--slots", type=int, default=2, help="CPU slots (concurrent simulations)")
    parser.add_argument(
        "--sensor-interval",
        type=int,
        default=None,
        help="task sensor interval, s (default: the stack's, 1 s)",
    )
    args = parser.parse_args()

    if args.sensor_interval is not None:
        os.environ["FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S"] = str(args.sensor_interval)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    os.environ.update(
        {
            "FEPFLOW_ENGINE_GPU_DEVICES": "none",
            "FEPFLOW_ENGINE_CPU_SLOTS": str(args.slots),
            "FEPFLOW_ENGINE_CPU_THREADS": "1",
        }
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout` stops the stack too
    home = Path(tempfile.mkdtemp(prefix="fepflow-bench-orch-"))
    stack = EmbeddedStack(
        StackConfig(
            home=home, workdir=REPO, mongo_port=free_port(), dagit_port=free_port(), api_port=free_port()
        )
    )
    stack.start(report=print)
    index = Index.connect(stack.config.mongo_url, "fepflow", timeout_ms=30_000)
    roots = [p.pid for p in stack.processes if p.pid is not None]
    interval = {**os.environ, **stack.config.env()}.get("FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S", "5")
    try:
        print(
            f"\n1-2. latency and fixed cost: {args.latency_tasks} tasks, one at a time "
            f"(sensor every {interval} s)"
        )
        latencies, fixed = [], []
        cpu0 = tree_cpu_s(roots)
        for i in range(args.latency_tasks):
            net = oscillator_network(1, f"latency {i}", iterations=100)
            t0 = time.time()
            key = index.submit_network(net, scope="bench").task_keys[0]
            wait_for(index, net.key, 1, 300)
            doc = index.tasks.coll.find_one({"_id": key})
            assert doc is not None
            started = doc["started_at"].timestamp() - t0
            done = doc["finished_at"].timestamp() - t0
            result = index.results.coll.find_one({"_id": doc["result"]["result_key"]})
            sampling = sum(leg["sampling_s"] for leg in result["summary"]["legs"].values())  # type: ignore[index]
            latencies.append(started)
            fixed.append(done - sampling)
            print(
                f"  task {i:>2}: first step after {started:5.2f} s, complete after {done:5.2f} s (sampling {sampling:4.2f} s)"
            )
        print(
            f"  submission -> first simulation step: p50 {statistics.median(latencies):.2f} s, "
            f"p95 {pct(latencies, 0.95):.2f} s (target p50 <= 5 s)"
        )
        latency_cpu = (tree_cpu_s(roots) - cpu0) / args.latency_tasks
        f50 = statistics.median(fixed)
        print(
            f"  fixed cost per task (launch, imports, setup, indexing): p50 {f50:.2f} s = {f50 / 300:.1%} of a "
            f"5-minute task, p95 {pct(fixed, 0.95):.2f} s (target p50 <= 1%)"
        )
        print(f"  CPU of the stack's processes per task (sampling included): {latency_cpu:.2f} s")

        print(f"\n3. drain: {args.drain_tasks} one-second tasks at once, {args.slots} CPU slots")
        net = oscillator_network(args.drain_tasks, "drain", iterations=60)
        t0 = time.monotonic()
        cpu0 = tree_cpu_s(roots)
        index.submit_network(net, scope="bench")
        wait_for(index, net.key, args.drain_tasks, 60 * 60)
        elapsed = time.monotonic() - t0
        drain_cpu = (tree_cpu_s(roots) - cpu0) / args.drain_tasks
        keys = [t.key for t in net.edges]
        total = sum(
            sum(leg["sampling_s"] for leg in doc["summary"]["legs"].values())
            for doc in index.results.coll.find({"transformation": {"$in": keys}}, {"summary.legs": 1})
        )
        ideal = total / args.slots
        print(
            f"  {args.drain_tasks} tasks in {elapsed:.1f} s = {args.drain_tasks / elapsed * 60:.1f} tasks/min; "
            f"their sampling {total:.1f} s in all, ideal {ideal:.1f} s on {args.slots} slots: "
            f"ideal / taken = {ideal / elapsed:.2f} (target >= 0.5)"
        )
        print(
            f"  CPU of the stack's processes per task: {drain_cpu:.2f} s, of which sampling "
            f"{total / args.drain_tasks:.2f} s (wall; one thread)"
        )
    finally:
        index.close()
        stack.stop()
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

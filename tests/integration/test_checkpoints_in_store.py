"""Checkpoints kept in the object store: a run killed with SIGKILL loses its work folder (a Kubernetes
pod), and the task's next run, in an empty folder elsewhere, resumes from the last stored checkpoint."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from fepflow.engine.config import SamplerConfig
from fepflow.engine.platforms import choose_platform
from fepflow.engine.reference import harmonic_oscillator_states
from fepflow.engine.sampling import run_multistate
from fepflow.engine.storage import read_reduced_energies
from fepflow.models.tasks import Task
from fepflow.settings import ObjectStoreSettings
from fepflow.store.checkpoints import store, stored_checkpoints
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, open_object_store

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ITERATIONS = 200
CONFIG = {
    "timestep_fs": 10.0,
    "collision_rate_per_ps": 100.0,
    "steps_per_iteration": 10,
    "production_iterations": ITERATIONS,
    "checkpoint_interval_iterations": 7,
}
CHILD = textwrap.dedent(
    f"""
    import sys
    from pathlib import Path
    from fepflow.engine.config import SamplerConfig
    from fepflow.engine.platforms import choose_platform
    from fepflow.engine.reference import harmonic_oscillator_states
    from fepflow.engine.sampling import run_multistate

    ref = harmonic_oscillator_states([1000.0, 1400.0, 2000.0], n_particles=1)
    run_multistate(ref.states, ref.positions, Path(sys.argv[1]), SamplerConfig.model_validate({CONFIG!r}),
                   choose_platform("Reference"), progress=lambda i, n: print(i, flush=True))
    """
)
KEY = "Task-" + "c" * 64


class PodDied(Exception):
    """The pod running the task was killed: its work folder is gone."""


@pytest.fixture()
def stores(mongo_url: str, mongo_db_name: str, tmp_path: Path) -> tuple[Index, ObjectStore]:
    index = Index.connect(mongo_url, mongo_db_name)
    index.tasks.coll.insert_one({"_id": KEY, "status": "running", "run_id": "run-1", "attempts": 1})
    return index, open_object_store(ObjectStoreSettings(url=f"file://{tmp_path / 'objects'}"))


def _task(run_id: str, attempts: int) -> Task:
    return Task(
        key=KEY, transformation_key="Transformation-" + "d" * 64, repeat=0, run_id=run_id, attempts=attempts
    )


def _pointer(index: Index) -> dict[str, object] | None:
    return (index.tasks.coll.find_one({"_id": KEY}) or {}).get("checkpoint")


def _run_until_stored_then_kill(script: Path, workdir: Path, index: Index) -> int:
    """Run the sampler in a child process; SIGKILL it once a checkpoint past iteration 40 is stored."""
    child = subprocess.Popen(
        [sys.executable, str(script), str(workdir / "leg.nc")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert child.stdout is not None
    last = -1
    try:
        for line in child.stdout:
            last = int(line)
            pointer = _pointer(index)
            if last >= 40 and pointer is not None and pointer["at"] is not None:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, "the child finished before a checkpoint was stored"
    return last


def test_a_new_pod_resumes_from_the_stored_checkpoint(
    stores: tuple[Index, ObjectStore], tmp_path: Path
) -> None:
    index, objects = stores
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    first_pod = tmp_path / "pod-1" / KEY
    with (
        pytest.raises(PodDied),
        stored_checkpoints(index, objects, _task("run-1", 1), first_pod, enabled=True, poll_s=0.05),
    ):
        killed_at = _run_until_stored_then_kill(script, first_pod, index)
        time.sleep(0.3)  # the watcher may store a last snapshot
        raise PodDied
    pointer = _pointer(index)
    assert pointer is not None and objects.exists(str(pointer["key"]))
    shutil.rmtree(tmp_path / "pod-1")

    # a run that lost the task cannot move the pointer
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "x").write_text("x")
    assert store(index, objects, _task("run-0", 1), tmp_path / "stray") is None
    assert _pointer(index) == pointer

    # the task's next run, on another pod: restored, resumed, finished; then the checkpoint is discarded
    index.tasks.coll.update_one({"_id": KEY}, {"$set": {"run_id": "run-2", "attempts": 2}})
    second_pod = tmp_path / "pod-2" / KEY
    ref = harmonic_oscillator_states([1000.0, 1400.0, 2000.0], n_particles=1)
    with stored_checkpoints(index, objects, _task("run-2", 2), second_pod, enabled=True, poll_s=0.05):
        assert (second_pod / "leg.nc.fepflow.json").exists()
        out = run_multistate(
            ref.states, ref.positions, second_pod / "leg.nc", SamplerConfig.model_validate(CONFIG),
            choose_platform("Reference"),
        )  # fmt: skip
    assert out.resumed and out.n_iterations == ITERATIONS
    # only what came after the stored checkpoint (at most one interval before the kill) ran again
    assert out.iterations_run <= ITERATIONS - killed_at + 7 + 7
    assert out.iterations_run < ITERATIONS - 30
    energies = read_reduced_energies(second_pod / "leg.nc")
    assert energies.u_kln.shape == (3, 3, ITERATIONS) and np.all(np.isfinite(energies.u_kln))
    assert _pointer(index) is None and not objects.exists(str(pointer["key"]))


def test_nothing_is_stored_unless_enabled(stores: tuple[Index, ObjectStore], tmp_path: Path) -> None:
    index, objects = stores
    with stored_checkpoints(index, objects, _task("run-1", 1), tmp_path / "w", enabled=False):
        pass
    assert _pointer(index) is None and not (tmp_path / "w").exists()

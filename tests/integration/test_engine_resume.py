"""Kill a sampling subprocess with SIGKILL mid-run, resume, and get exactly the requested run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fepflow.analysis.mbar import analyse_storage
from fepflow.engine.checkpoint import read_sidecar
from fepflow.engine.config import SamplerConfig
from fepflow.engine.platforms import choose_platform
from fepflow.engine.reference import harmonic_oscillator_states
from fepflow.engine.sampling import run_multistate
from fepflow.engine.storage import read_reduced_energies

pytestmark = pytest.mark.slow

ITERATIONS = 400
CONFIG = {
    "timestep_fs": 10.0,
    "collision_rate_per_ps": 100.0,
    "steps_per_iteration": 10,
    "production_iterations": ITERATIONS,
    "checkpoint_interval_iterations": 7,
}

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from fepflow.engine.platforms import choose_platform
    from fepflow.engine.reference import harmonic_oscillator_states
    from fepflow.engine.config import SamplerConfig
    from fepflow.engine.sampling import run_multistate

    ref = harmonic_oscillator_states([1000.0, 1400.0, 2000.0], n_particles=1)
    config = SamplerConfig.model_validate({config!r})

    def progress(iteration, total):
        print(iteration, flush=True)

    run_multistate(ref.states, ref.positions, Path(sys.argv[1]), config, choose_platform("Reference"),
                   progress=progress)
    print("finished", flush=True)
    """
).format(config=CONFIG)


def _run_and_kill(script: Path, storage: Path, kill_after: int) -> int:
    """Start the child, SIGKILL it once it reports ``kill_after`` iterations; return the last seen."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, str(script), str(storage)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    last = -1
    try:
        for line in child.stdout:
            if line.strip() == "finished":
                pytest.fail("the child finished before it could be killed")
            last = int(line)
            if last >= kill_after:
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    return last


def test_sigkill_mid_run_then_resume(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    storage = tmp_path / "leg.nc"

    seen = _run_and_kill(script, storage, kill_after=60)
    assert seen >= 60
    assert read_sidecar(storage)["clean"] is False  # type: ignore[index]
    # A second interruption of the resumed run, later on.
    assert _run_and_kill(script, storage, kill_after=150) >= 150

    ref = harmonic_oscillator_states([1000.0, 1400.0, 2000.0], n_particles=1)
    out = run_multistate(
        ref.states, ref.positions, storage, SamplerConfig.model_validate(CONFIG), choose_platform("Reference")
    )
    assert out.resumed
    assert out.n_iterations == ITERATIONS
    assert 0 < out.iterations_run < ITERATIONS - 140
    energies = read_reduced_energies(storage)
    assert energies.u_kln.shape == (3, 3, ITERATIONS)
    assert np.all(np.isfinite(energies.u_kln))
    result = analyse_storage(storage)
    assert np.isfinite(result.dg_kT) and result.ddg_kT > 0
    assert read_sidecar(storage)["clean"] is True  # type: ignore[index]

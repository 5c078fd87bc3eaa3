"""run_multistate on tiny harmonic systems: outcome, storage, extend, resume checks, NaN errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from fepflow.engine.checkpoint import read_sidecar, sidecar_path, snapshot_root
from fepflow.engine.config import SamplerConfig
from fepflow.engine.errors import SimulationError, StorageError
from fepflow.engine.platforms import PlatformChoice, choose_platform
from fepflow.engine.reference import HarmonicReference, harmonic_oscillator_states
from fepflow.engine.sampling import run_multistate
from fepflow.engine.storage import read_reduced_energies


def _config(**overrides: object) -> SamplerConfig:
    settings: dict[str, object] = {
        "timestep_fs": 10.0,
        "collision_rate_per_ps": 100.0,
        "steps_per_iteration": 10,
        "production_iterations": 10,
        "checkpoint_interval_iterations": 5,
    }
    settings.update(overrides)
    return SamplerConfig.model_validate(settings)


@pytest.fixture(scope="module")
def reference() -> HarmonicReference:
    return harmonic_oscillator_states([1000.0, 1400.0, 2000.0], n_particles=1)


@pytest.fixture(scope="module")
def platform() -> PlatformChoice:
    return choose_platform("Reference")


def test_run_writes_storage_and_reports(tmp_path: Path, reference, platform, capfd) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[int, int]] = []
    storage = tmp_path / "run" / "leg.nc"
    out = run_multistate(
        reference.states,
        reference.positions,
        storage,
        _config(),
        platform,
        progress=lambda i, n: calls.append((i, n)),
    )
    assert (out.n_iterations, out.iterations_run, out.n_states, out.resumed) == (10, 10, 3, False)
    assert out.platform_name == "Reference"
    assert out.ns_per_day > 0
    assert out.propagation_s > 0 and out.energy_matrix_s > 0 and out.io_s > 0
    assert out.sampling_s >= out.propagation_s + out.energy_matrix_s
    assert calls[-1] == (10, 10) and [c[0] for c in calls] == list(range(11))  # 0: storage created
    assert (tmp_path / "run" / "leg_checkpoint.nc").exists()
    assert read_sidecar(storage)["clean"] is True  # type: ignore[index]
    assert [p.name for p in snapshot_root(storage).iterdir()] == ["iter-000000010"]

    energies = out.reduced_energies()
    assert energies.u_kln.shape == (3, 3, 10)
    assert np.all(np.isfinite(energies.u_kln))
    assert all(sorted(row) == [0, 1, 2] for row in energies.replica_states.tolist())
    assert energies.n_proposed.sum() > 0  # replica exchange proposed swaps
    assert "cite" not in capfd.readouterr().out.lower()  # openmmtools' citation notice is not printed


def test_independent_windows_never_exchange(tmp_path: Path, reference, platform) -> None:  # type: ignore[no-untyped-def]
    out = run_multistate(
        reference.states, reference.positions, tmp_path / "i.nc", _config(method="independent"), platform
    )
    energies = read_reduced_energies(out.storage_path)
    assert np.all(energies.replica_states == np.arange(3))
    assert energies.n_proposed.sum() == 0


def test_extend_is_idempotent(tmp_path: Path, reference, platform) -> None:  # type: ignore[no-untyped-def]
    storage = tmp_path / "x.nc"
    run_multistate(reference.states, reference.positions, storage, _config(), platform)
    extended = run_multistate(
        reference.states, reference.positions, storage, _config(), platform, extend_iterations=5
    )
    assert (extended.n_iterations, extended.iterations_run, extended.resumed) == (15, 5, True)
    again = run_multistate(
        reference.states, reference.positions, storage, _config(), platform, extend_iterations=5
    )
    assert (again.n_iterations, again.iterations_run) == (15, 0)
    assert read_reduced_energies(storage).n_iterations == 15


def test_extension_between_checkpoints_says_what_it_repeats(
    tmp_path: Path, reference, platform, caplog
) -> None:  # type: ignore[no-untyped-def]
    storage = tmp_path / "between.nc"
    config = _config(production_iterations=7, checkpoint_interval_iterations=5)
    with caplog.at_level(logging.WARNING, logger="fepflow.engine.sampling"):
        run_multistate(reference.states, reference.positions, storage, config, platform)
    assert "7 iterations end between checkpoints (every 5)" in caplog.text
    assert "resume from iteration 5" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fepflow.engine.sampling"):
        out = run_multistate(
            reference.states, reference.positions, storage, config, platform, extend_iterations=3
        )
    assert "holds 7 iterations but its last checkpoint is at iteration 5: iterations 6-7" in caplog.text
    assert (out.n_iterations, out.iterations_run, out.resumed) == (10, 5, True)
    assert read_reduced_energies(storage).n_iterations == 10


def test_resume_refuses_other_dynamics(tmp_path: Path, reference, platform) -> None:  # type: ignore[no-untyped-def]
    storage = tmp_path / "r.nc"
    run_multistate(reference.states, reference.positions, storage, _config(production_iterations=5), platform)
    with pytest.raises(StorageError, match=r"timestep_fs: stored 10\.0, now 5\.0"):
        run_multistate(reference.states, reference.positions, storage, _config(timestep_fs=5.0), platform)


def test_interrupted_creation_starts_again(tmp_path: Path, reference, platform) -> None:  # type: ignore[no-untyped-def]
    storage = tmp_path / "c.nc"
    storage.write_bytes(b"half-written HDF5")  # killed inside create(): no sidecar yet
    out = run_multistate(reference.states, reference.positions, storage, _config(), platform)
    assert (out.n_iterations, out.resumed) == (10, False)


def test_unclean_storage_is_restored_from_snapshot(tmp_path: Path, reference, platform, caplog) -> None:  # type: ignore[no-untyped-def]
    storage = tmp_path / "u.nc"
    run_multistate(reference.states, reference.positions, storage, _config(), platform)
    # Simulate a SIGKILL during an HDF5 write: a damaged live file and a sidecar not marked clean.
    data = bytearray(storage.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 4096] = b"\0" * 4096
    storage.write_bytes(bytes(data))
    sidecar = json.loads(sidecar_path(storage).read_text())
    sidecar_path(storage).write_text(json.dumps({**sidecar, "clean": False}))
    with caplog.at_level(logging.WARNING, logger="fepflow.engine.checkpoint"):
        out = run_multistate(
            reference.states, reference.positions, storage, _config(), platform, extend_iterations=3
        )
    assert "restored the snapshot of iteration 10" in caplog.text
    assert (out.n_iterations, out.iterations_run) == (13, 3)
    assert read_reduced_energies(storage).u_kln.shape == (3, 3, 13)


def test_contexts_use_the_chosen_platform(tmp_path: Path, reference, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from openmmtools import cache

    seen: set[str] = set()
    original = cache.ContextCache.get_context

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        context, integrator = original(self, *args, **kwargs)
        seen.add(context.getPlatform().getName())
        return context, integrator

    monkeypatch.setattr(cache.ContextCache, "get_context", spy)
    cpu = choose_platform("CPU", threads=1)
    out = run_multistate(
        reference.states, reference.positions, tmp_path / "p.nc", _config(production_iterations=2), cpu
    )
    assert seen == {"CPU"}
    assert out.platform_name == "CPU"
    assert len(cache.global_context_cache) == 0  # the sampler used its own caches


def test_blow_up_names_state_and_iteration(tmp_path: Path, platform) -> None:  # type: ignore[no-untyped-def]
    # omega * dt >> 2 at the last state only: BAOAB diverges there within one iteration.
    unstable = harmonic_oscillator_states([1000.0, 2000.0, 1.0e7], n_particles=1)
    with pytest.raises(SimulationError) as err:
        run_multistate(unstable.states, unstable.positions, tmp_path / "nan.nc", _config(), platform)
    assert (err.value.state_index, err.value.iteration, err.value.phase) == (2, 1, "sampling")
    assert "thermodynamic state 2" in str(err.value) and "iteration 1" in str(err.value)
    # Not trusted: the next call restores the last snapshot that passed the checks (iteration 0).
    assert read_sidecar(tmp_path / "nan.nc")["clean"] is False  # type: ignore[index]
    assert [p.name for p in snapshot_root(tmp_path / "nan.nc").iterdir()] == ["iter-000000000"]


def test_blow_up_during_equilibration(tmp_path: Path, platform) -> None:  # type: ignore[no-untyped-def]
    unstable = harmonic_oscillator_states([1.0e7, 2.0e7], n_particles=1)
    with pytest.raises(SimulationError) as err:
        run_multistate(
            unstable.states,
            unstable.positions,
            tmp_path / "eq.nc",
            _config(equilibration_steps=500),
            platform,
        )
    assert (err.value.state_index, err.value.phase) == (0, "equilibration")
    assert not (tmp_path / "eq.nc").exists()

"""The multistate runner every protocol uses: minimise once, equilibrate, sample, resume, extend.

Dynamics: openmmtools ``LangevinDynamicsMove``, which in 0.27 runs OpenMM's native
``LangevinMiddleIntegrator`` (BAOAB, the "V R O R V" splitting), with velocities carried over
between iterations. The same integrator runs the equilibration, so nothing changes at the switch.

Run length is idempotent: a call asks for ``production_iterations + extend_iterations`` iterations
in total. Whatever the storage already holds counts towards it, so a run killed at any moment
and called again with the same arguments ends with exactly that many iterations; a finished run
called with ``extend_iterations=N`` gains N more.

Sampling until precise: with a ``stop_check`` (:mod:`fepflow.engine.stopping`) the run is asked at
every checkpoint whether it may stop, and ``production_iterations`` is its maximum. A run that
stopped early counts extensions from where it stopped; extensions run their length.
"""

from __future__ import annotations

import copy
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openmm import unit

from fepflow.engine.checkpoint import (
    check_resumable,
    mark_clean,
    read_sidecar,
    remove_storage,
    restore_latest_snapshot,
    snapshot_root,
    take_snapshot,
    write_sidecar,
)
from fepflow.engine.config import SamplerConfig
from fepflow.engine.equilibration import prepare_start
from fepflow.engine.errors import SimulationError, StorageError
from fepflow.engine.platforms import PlatformChoice
from fepflow.engine.stopping import EARLY_STOP_KEY, STOP_KEY, Stop, StopCheck
from fepflow.engine.storage import (
    ReducedEnergies,
    quiet_openmmtools_loggers,
    read_last_iteration,
    read_reduced_energies,
    reduced_energies_from,
    storage_exists,
    storage_files,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplingOutcome:
    """What one :func:`run_multistate` call did.

    ``ns_per_day`` aggregates all replicas over the sampling phase of this call (0 if it ran no
    iteration); the ``*_s`` timings are wall seconds of this call, with ``propagation_s``,
    ``energy_matrix_s``, ``mixing_s`` and ``io_s`` splitting ``sampling_s``.
    """

    storage_path: Path
    n_iterations: int
    iterations_run: int
    n_states: int
    resumed: bool
    platform_name: str
    wall_time_s: float
    minimization_s: float
    equilibration_s: float
    sampling_s: float
    propagation_s: float
    energy_matrix_s: float
    mixing_s: float
    io_s: float
    ns_per_day: float
    timings: dict[str, float] = field(default_factory=dict)
    stop_reason: str = "length"
    stop_detail: str = ""

    def reduced_energies(self) -> ReducedEnergies:
        """Read the reduced energy matrix of the whole run from storage."""
        return read_reduced_energies(self.storage_path)

    def stopping(self) -> dict[str, object]:
        """Why the run ended where it did, for a leg's summary: ``stop_reason`` (see
        :class:`fepflow.engine.stopping.Stop`), ``stop_detail`` and ``stopped_at_iteration``."""
        return {
            "stop_reason": self.stop_reason,
            "stop_detail": self.stop_detail,
            "stopped_at_iteration": self.n_iterations,
        }


def run_multistate(
    states: Sequence[Any],
    positions: Any,
    storage_path: Path,
    config: SamplerConfig,
    platform_choice: PlatformChoice,
    *,
    box_vectors: Any = None,
    extend_iterations: int = 0,
    progress: Callable[[int, int], None] | None = None,
    stop_check: StopCheck | None = None,
) -> SamplingOutcome:
    """Run (or resume, or extend) a multistate simulation with one replica per state.

    Parameters
    ----------
    states : sequence of openmmtools.states.ThermodynamicState
        The thermodynamic states (e.g. from :func:`fepflow.engine.alchemical.build_alchemical_states`).
    positions : openmm.unit.Quantity or array-like (nm)
        Starting positions, used only when the storage does not exist yet.
    storage_path : pathlib.Path
        The NetCDF storage; ``<stem>_checkpoint.nc``, the sidecar ``<name>.fepflow.json`` and the
        snapshots ``<name>.fepflow-snapshots/`` go next to it (see :mod:`fepflow.engine.checkpoint`).
    config : SamplerConfig
        Sampling settings.
    platform_choice : PlatformChoice
        Where Contexts are created (from :func:`fepflow.engine.platforms.choose_platform`).
    box_vectors : optional
        Starting periodic box vectors; the system's defaults when omitted.
    extend_iterations : int
        Iterations wanted beyond ``config.production_iterations``.
    progress : callable, optional
        Called as ``progress(iteration, total)`` after each iteration is written.
    stop_check : callable, optional
        Asked at every checkpoint (with the reduced energies so far) whether the run may stop
        before ``production_iterations``, which is then its maximum; not asked during extensions.

    Returns
    -------
    SamplingOutcome

    Notes
    -----
    On resume the thermodynamic states, coordinates and MCMC moves stored in the file are used;
    only the number of states and the dynamics settings are checked against the arguments.

    Raises
    ------
    SimulationError
        NaN or infinite energies or coordinates; names the state, replica and iteration.
    StorageError
        Storage that was created with other sampling settings or cannot be opened.
    """
    quiet_openmmtools_loggers()
    if extend_iterations < 0:
        raise ValueError(f"extend_iterations must be >= 0, not {extend_iterations}")
    if len(states) < 2:
        raise ValueError("a multistate run needs at least two states")
    began = time.perf_counter()
    storage_path = Path(storage_path)
    sidecar = read_sidecar(storage_path)
    if sidecar is None and (storage_exists(storage_path) or snapshot_root(storage_path).exists()):
        remove_storage(storage_path)
    stopped_early = (sidecar or {}).get(EARLY_STOP_KEY)
    base = int(stopped_early) if stopped_early is not None else config.production_iterations
    target = base + extend_iterations
    check = stop_check if extend_iterations == 0 and stopped_early is None else None
    callbacks = _Callbacks(platform_choice, target, progress, functools.partial(take_snapshot, storage_path))
    if sidecar is not None:
        opened = _resume(storage_path, sidecar, len(states), config, callbacks)
        if opened is None:
            logger.info("%s already holds %d iterations or more; nothing to run", storage_path, target)
            return _outcome(storage_path, len(states), platform_choice, config, began)
    else:
        opened = _create(states, positions, box_vectors, storage_path, config, callbacks)
    sampled = _sample(opened, storage_path, target, check, extension=extend_iterations > 0)
    return _outcome(storage_path, len(states), platform_choice, config, began, opened, sampled)


@dataclass(frozen=True)
class _Callbacks:
    """What every sampler of one call is set up with (see ``_Instrumented.fepflow_setup``)."""

    platform: PlatformChoice
    target: int
    progress: Callable[[int, int], None] | None
    on_checkpoint: Callable[[int], Any]

    def setup(self, sampler: Any) -> None:
        sampler.fepflow_setup(
            self.platform, target=self.target, progress=self.progress, on_checkpoint=self.on_checkpoint
        )


@dataclass(frozen=True)
class _Opened:
    """A sampler ready to run, its open reporter, and what preparing it took."""

    sampler: Any
    reporter: Any
    resumed: bool
    stored_iterations: int = 0
    minimization_s: float = 0.0
    equilibration_s: float = 0.0


def _resume(
    storage_path: Path,
    sidecar: dict[str, Any],
    n_states: int,
    config: SamplerConfig,
    callbacks: _Callbacks,
) -> _Opened | None:
    """The stored run reopened (from its last snapshot if it was left unclean); None if it is done."""
    from openmmtools import multistate

    from fepflow.engine._samplers import SAMPLER_CLASSES

    check_resumable(storage_path, sidecar, config.dynamics(), n_states)
    if not sidecar.get("clean", False):
        restore_latest_snapshot(storage_path)
        mark_clean(storage_path, True)
    stored_iterations = read_last_iteration(storage_path)
    if stored_iterations >= callbacks.target:
        return None
    mark_clean(storage_path, False)
    analysis, checkpoint = storage_files(storage_path)
    reporter = multistate.MultiStateReporter(str(analysis), checkpoint_storage=checkpoint.name)
    try:
        sampler = SAMPLER_CLASSES[config.method].from_storage(reporter)
    except Exception as exc:  # left unclean: the next call restores the last snapshot
        reporter.close()
        raise StorageError(f"cannot resume {storage_path}: {exc}") from exc
    callbacks.setup(sampler)
    return _Opened(sampler, reporter, resumed=True, stored_iterations=stored_iterations)


def _create(
    states: Sequence[Any],
    positions: Any,
    box_vectors: Any,
    storage_path: Path,
    config: SamplerConfig,
    callbacks: _Callbacks,
) -> _Opened:
    """A new run: minimise and equilibrate at state 0, write iteration 0, its snapshot and the sidecar."""
    from openmmtools import mcmc, multistate

    from fepflow.engine._samplers import SAMPLER_CLASSES

    sampler_class = SAMPLER_CLASSES[config.method]
    start_state, minimization_s, equilibration_s = prepare_start(
        states[0], positions, box_vectors, config, callbacks.platform
    )
    move = mcmc.LangevinDynamicsMove(
        timestep=config.timestep_fs * unit.femtosecond,
        collision_rate=config.collision_rate_per_ps / unit.picosecond,
        n_steps=config.steps_per_iteration,
        reassign_velocities=False,
        n_restart_attempts=config.nan_restart_attempts,
    )
    target = callbacks.target
    sampler = sampler_class(mcmc_moves=move, number_of_iterations=target, online_analysis_interval=None)
    interval = config.checkpoint_interval_iterations
    if target % interval:
        logger.warning(
            "%s: %d iterations end between checkpoints (every %d); an extension will resume from "
            "iteration %d and run the ones after it again. Make production_iterations a multiple of "
            "checkpoint_interval_iterations to avoid that",
            storage_path,
            target,
            interval,
            target - target % interval,
        )
    callbacks.setup(sampler)
    analysis, checkpoint = storage_files(storage_path)
    reporter = multistate.MultiStateReporter(
        str(analysis), checkpoint_interval=interval, checkpoint_storage=checkpoint.name
    )
    storage_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        sampler.create(
            thermodynamic_states=list(states),
            sampler_states=[copy.deepcopy(start_state) for _ in states],
            storage=reporter,
        )
        take_snapshot(storage_path, 0)  # iteration 0 is written and synced
    except BaseException:
        reporter.close()
        raise
    write_sidecar(
        storage_path,
        {
            "config": config.model_dump(),
            "n_states": len(states),
            "sampler": sampler_class.__name__,
            "clean": False,
        },
    )
    return _Opened(
        sampler,
        reporter,
        resumed=False,
        minimization_s=minimization_s,
        equilibration_s=equilibration_s,
    )


@dataclass(frozen=True)
class _Sampled:
    """What :func:`_sample` did."""

    iterations_run: int
    sampling_s: float
    timings: dict[str, float]
    stop: Stop


def _sample(
    opened: _Opened, storage_path: Path, target: int, check: StopCheck | None, *, extension: bool
) -> _Sampled:
    """Run ``opened`` up to ``target`` iterations (or until ``check`` says stop at a checkpoint),
    record why it stopped in the sidecar, and close it."""
    from openmmtools.multistate.utils import SimulationNaNError

    sampler = opened.sampler
    sampled: _Sampled | None = None
    try:
        first = int(sampler.iteration)
        _warn_rerun(opened, storage_path, first)
        logger.info("sampling %s from iteration %d to %d", storage_path, first, target)
        sampler.fepflow_reset_timings()  # create() wrote iteration 0 outside the sampling phase
        sampling_began = time.perf_counter()
        try:
            stop = _run_until(opened, storage_path, target, check, extension=extension)
        except SimulationNaNError as exc:  # openmmtools' own initial-energy check
            raise SimulationError(str(exc), state_index=None, iteration=int(sampler.iteration)) from exc
        sampled = _Sampled(
            iterations_run=int(sampler.iteration) - first,
            sampling_s=time.perf_counter() - sampling_began,
            timings=dict(sampler.fepflow_timings),
            stop=stop,
        )
    finally:
        opened.reporter.close()
        # Any failure leaves the files "unclean": the next call restores the last snapshot, which
        # passed the energy checks, instead of trusting iterations written after it.
        _mark_done(storage_path, sampled.stop if sampled is not None else None)
    return sampled


def _warn_rerun(opened: _Opened, storage_path: Path, first: int) -> None:
    if opened.resumed and first < opened.stored_iterations:
        logger.warning(
            "%s holds %d iterations but its last checkpoint is at iteration %d: iterations %d-%d "
            "are run again (positions are only stored at checkpoints)",
            storage_path,
            opened.stored_iterations,
            first,
            first + 1,
            opened.stored_iterations,
        )


def _run_until(
    opened: _Opened, storage_path: Path, target: int, check: StopCheck | None, *, extension: bool
) -> Stop:
    """Extend the sampler to ``target``, one checkpoint interval at a time when there is a check."""
    sampler = opened.sampler
    if check is None:
        sampler.extend(target - int(sampler.iteration))
        detail = f"ran the {target} iterations asked for"
        return Stop("extension" if extension else "length", int(sampler.iteration), detail)
    interval = int(opened.reporter.checkpoint_interval)
    detail = "no check reached"
    while int(sampler.iteration) < target:
        iteration = int(sampler.iteration)
        sampler.extend(min(target, (iteration // interval + 1) * interval) - iteration)
        verdict = check(reduced_energies_from(opened.reporter, storage_path))
        detail = verdict.detail
        logger.info("%s at iteration %d: %s", storage_path, int(sampler.iteration), detail)
        if verdict.stop:
            return Stop("precision", int(sampler.iteration), detail)
    return Stop("maximum", int(sampler.iteration), f"reached the maximum of {target} iterations; {detail}")


def _mark_done(storage_path: Path, stop: Stop | None) -> None:
    """Mark the files clean and record how the call stopped; without a stop (it failed), unclean."""
    if stop is None:
        mark_clean(storage_path, False)
        return
    data = read_sidecar(storage_path) or {}
    data["clean"] = True
    data[STOP_KEY] = stop.to_dict()
    if stop.reason == "precision":
        data[EARLY_STOP_KEY] = stop.iteration
    write_sidecar(storage_path, data)


def _outcome(
    storage_path: Path,
    n_states: int,
    platform_choice: PlatformChoice,
    config: SamplerConfig,
    began: float,
    opened: _Opened | None = None,
    sampled: _Sampled | None = None,
) -> SamplingOutcome:
    """What a call did; without ``opened`` and ``sampled``, a stored run that already held every
    iteration asked for (nothing ran)."""
    resumed = opened is None or opened.resumed
    minimization_s = opened.minimization_s if opened is not None else 0.0
    equilibration_s = opened.equilibration_s if opened is not None else 0.0
    n_iterations = read_last_iteration(storage_path)
    if sampled is not None:
        iterations_run, sampling_s, timings, stop = (
            sampled.iterations_run,
            sampled.sampling_s,
            sampled.timings,
            sampled.stop,
        )
    else:
        iterations_run, sampling_s, timings = 0, 0.0, {}
        stop = Stop.from_dict((read_sidecar(storage_path) or {}).get(STOP_KEY), n_iterations)
    simulated_ns = n_states * iterations_run * config.steps_per_iteration * config.timestep_fs * 1e-6
    ns_per_day = simulated_ns / sampling_s * 86400.0 if iterations_run and sampling_s > 0 else 0.0
    return SamplingOutcome(
        storage_path=storage_path,
        n_iterations=n_iterations,
        iterations_run=iterations_run,
        n_states=n_states,
        resumed=resumed,
        platform_name=platform_choice.name,
        wall_time_s=time.perf_counter() - began,
        minimization_s=minimization_s,
        equilibration_s=equilibration_s,
        sampling_s=sampling_s,
        propagation_s=timings.get("propagation", 0.0),
        energy_matrix_s=timings.get("energy_matrix", 0.0),
        mixing_s=timings.get("mixing", 0.0),
        io_s=timings.get("io", 0.0),
        ns_per_day=ns_per_day,
        timings=dict(timings),
        stop_reason=stop.reason,
        stop_detail=stop.detail,
    )

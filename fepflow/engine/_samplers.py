"""openmmtools samplers with timings, progress, quiet citations and errors that name the state.

The subclasses only wrap private hooks of openmmtools 0.27's ``MultiStateSampler`` (pinned):
``_propagate_replica(s)``, ``_compute_energies``, ``_compute_replica_energies``, ``_mix_replicas``,
``_report_iteration``, ``_check_nan_energy`` and ``_display_citations``. The storage format is the
unchanged openmmtools one, so any openmmtools analyzer can read it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mpiplus
import numpy as np
import openmm
from openmmtools import cache, multistate
from openmmtools.multistate.utils import SimulationNaNError

from fepflow.engine.errors import SimulationError
from fepflow.engine.isolated import QuadraticEnergies
from fepflow.engine.platforms import PlatformChoice

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # the mixin only ever sits in front of an openmmtools sampler
    _SamplerBase = Any
else:
    _SamplerBase = object

#: A replica's energy at its own state above this many kT per particle means the dynamics exploded.
EXPLODED_KT_PER_PARTICLE = 1.0e6
TIMING_KEYS = ("propagation", "energy_matrix", "mixing", "io", "snapshots")


class _Instrumented(_SamplerBase):
    """Mixin for openmmtools multistate samplers (see module docstring)."""

    fepflow_timings: dict[str, float]
    fepflow_progress: Callable[[int, int], None] | None
    fepflow_on_checkpoint: Callable[[int], None] | None
    fepflow_target: int
    _fepflow_energy_plan: QuadraticEnergies | None

    def fepflow_setup(
        self,
        platform: PlatformChoice,
        *,
        target: int,
        progress: Callable[[int, int], None] | None = None,
        on_checkpoint: Callable[[int], None] | None = None,
    ) -> None:
        """Give the sampler its own Context caches on ``platform``, reset timings, set callbacks.

        ``on_checkpoint(iteration)`` runs once a checkpoint iteration has been written, synced and
        has passed the energy checks; ``progress(iteration, target)`` after every written iteration.
        """
        self.fepflow_reset_timings()
        self.fepflow_progress = progress
        self.fepflow_on_checkpoint = on_checkpoint
        self.fepflow_target = target
        context_cache = cache.ContextCache(
            platform=platform.platform,
            platform_properties=dict(platform.properties) or None,
            capacity=None,
            time_to_live=None,
        )
        # Both caches: propagation (one Context per integrator) and the energy matrix.
        self.energy_context_cache = context_cache
        self.sampler_context_cache = context_cache

    def fepflow_reset_timings(self) -> None:
        """Zero the timings (seconds spent in each part of an iteration)."""
        self.fepflow_timings = dict.fromkeys(TIMING_KEYS, 0.0)

    def _timed(self, key: str, func: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return func()
        finally:
            timings = getattr(self, "fepflow_timings", None)
            if timings is not None:
                timings[key] += time.perf_counter() - start

    def _state_of(self, replica_id: int) -> int:
        return int(self._replica_thermodynamic_states[replica_id])

    def _display_citations(self, overwrite_global: bool = False, citation_stack: Any = None) -> None:
        logger.debug("openmmtools citation notice (OpenMM, openmmtools, MBAR) not printed")

    def _propagate_replicas(self) -> None:
        self._timed("propagation", super()._propagate_replicas)

    def _propagate_replica(self, replica_id: int) -> Any:
        state = self._state_of(replica_id)
        iteration = int(self._iteration)
        try:
            return super()._propagate_replica(replica_id)
        except SimulationNaNError as exc:
            raise SimulationError(
                f"NaN during dynamics: {exc}",
                state_index=state,
                iteration=iteration,
                replica_index=replica_id,
            ) from exc
        except openmm.OpenMMException as exc:
            raise SimulationError(
                f"OpenMM failed during dynamics: {exc}",
                state_index=state,
                iteration=iteration,
                replica_index=replica_id,
            ) from exc

    def _compute_energies(self) -> None:
        self._timed("energy_matrix", super()._compute_energies)

    def _energy_plan(self) -> QuadraticEnergies | None:
        """Interpolate rows of the energy matrix where states differ only in scaled charges."""
        if not hasattr(self, "_fepflow_energy_plan"):
            plain = not self._unsampled_states and self.locality is None
            self._fepflow_energy_plan = QuadraticEnergies.plan(self._thermodynamic_states) if plain else None
        return self._fepflow_energy_plan

    def _compute_replica_energies(self, replica_id: int) -> Any:
        try:
            plan = self._energy_plan()
            if plan is not None:
                row = plan.reduced_potentials(
                    self._thermodynamic_states, self._sampler_states[replica_id], self.energy_context_cache
                )
                return row, np.zeros(0)
            return super()._compute_replica_energies(replica_id)
        except openmm.OpenMMException as exc:
            raise SimulationError(
                f"OpenMM failed computing energies: {exc}",
                state_index=self._state_of(replica_id),
                iteration=int(self._iteration),
                replica_index=replica_id,
            ) from exc

    def _mix_replicas(self) -> Any:
        return self._timed("mixing", super()._mix_replicas)

    @mpiplus.delayed_termination
    def _report_iteration_items(self) -> None:
        """openmmtools' items of an iteration, but the MCMC moves only at checkpoints.

        openmmtools rewrites the serialized moves (YAML, for statistics a Langevin move does not
        keep) every iteration: 25-40 % of the storage time of a short iteration, and the write a
        SIGKILL most often corrupted (see :mod:`fepflow.engine.checkpoint`). A resume starts from
        the last checkpoint, where the moves are written.
        """
        reporter, iteration = self._reporter, self._iteration
        reporter.write_sampler_states(self._sampler_states, iteration)
        reporter.write_replica_thermodynamic_states(self._replica_thermodynamic_states, iteration)
        if iteration % reporter.checkpoint_interval == 0:
            reporter.write_mcmc_moves(self._mcmc_moves)
        reporter.write_energies(
            self._energy_thermodynamic_states, self._neighborhoods, self._energy_unsampled_states, iteration
        )
        reporter.write_mixing_statistics(self._n_accepted_matrix, self._n_proposed_matrix, iteration)

    def _report_iteration(self) -> None:
        self._timed("io", super()._report_iteration)
        iteration = int(self._iteration)
        progress = getattr(self, "fepflow_progress", None)
        if progress is not None:
            progress(iteration, int(self.fepflow_target))

    def _check_nan_energy(self) -> None:
        """Stop on NaN energies (as openmmtools does) and also on exploded ones.

        A replica's energy at its *own* state must be finite and below
        ``EXPLODED_KT_PER_PARTICLE`` per particle; energies at other states may be huge or
        ``+inf`` (a decoupled ligand overlapping solvent, seen from the coupled state) but never
        NaN or ``-inf``.
        """
        energies = np.asarray(self._energy_thermodynamic_states)
        for replica_id in range(energies.shape[0]):
            state = self._state_of(replica_id)
            neighborhood = list(self._neighborhood(state))
            row = energies[replica_id, neighborhood]
            own = float(energies[replica_id, state])
            n_particles = max(1, int(self._sampler_states[replica_id].n_particles))
            problem = None
            if np.any(np.isnan(row) | np.isneginf(row)):
                problem = f"NaN or -inf reduced energies {row.tolist()}"
            elif not np.isfinite(own) or abs(own) / n_particles > EXPLODED_KT_PER_PARTICLE:
                problem = f"exploded: reduced energy {own:.6g} kT over {n_particles} particles"
            if problem is not None:
                raise SimulationError(
                    problem, state_index=state, iteration=int(self._iteration), replica_index=replica_id
                )
        # openmmtools checks energies after writing the iteration: snapshot only iterations that
        # passed, so a restored snapshot never holds exploded coordinates.
        iteration = int(self._iteration)
        on_checkpoint = getattr(self, "fepflow_on_checkpoint", None)
        if on_checkpoint is not None and iteration % self._reporter.checkpoint_interval == 0:
            self._timed("snapshots", lambda: on_checkpoint(iteration))


PYTHON_MIXING_MAX_REPLICAS = 16
"""Up to this many replicas, 'swap-all' mixing runs :func:`swap_all` (n³ attempts, a few ms in
Python) instead of openmmtools' numba kernel, whose compilation costs about 2.5 s in every process
that samples: more than a whole short leg's exchanges."""


def swap_all(
    replica_states: np.ndarray,
    energies: np.ndarray,
    n_accepted: np.ndarray,
    n_proposed: np.ndarray,
    n_attempts: int,
    rng: Any = np.random,
) -> None:
    """Metropolis swaps between random pairs of replicas, in place (openmmtools' 'swap-all' scheme).

    Parameters
    ----------
    replica_states : numpy.ndarray of int, shape (n_replicas,)
        The state of each replica; updated.
    energies : numpy.ndarray, shape (n_replicas, n_states)
        Reduced potential of each replica at each state.
    n_accepted, n_proposed : numpy.ndarray, shape (n_states, n_states)
        Swap statistics by state pair; incremented (both directions, as openmmtools does).
    n_attempts : int
        Swaps to attempt.
    rng : numpy random generator or module
        Source of ``integers``/``randint`` and ``random``/``rand``.
    """
    n = len(replica_states)
    draw = getattr(rng, "integers", None) or rng.randint
    uniform = getattr(rng, "random", None) or rng.rand
    pairs = draw(0, n, size=(n_attempts, 2)).tolist()
    thresholds = uniform(n_attempts).tolist()
    u = energies.tolist()
    states = [int(x) for x in replica_states]
    accepted: dict[tuple[int, int], int] = {}
    proposed: dict[tuple[int, int], int] = {}
    for (i, j), threshold in zip(pairs, thresholds, strict=True):
        si, sj = states[i], states[j]
        log_p = u[i][si] + u[j][sj] - u[i][sj] - u[j][si]
        proposed[si, sj] = proposed.get((si, sj), 0) + 1
        if log_p >= 0.0 or threshold < math.exp(log_p):
            states[i], states[j] = sj, si
            accepted[si, sj] = accepted.get((si, sj), 0) + 1
    replica_states[:] = states
    for counts, matrix in ((proposed, n_proposed), (accepted, n_accepted)):
        for (si, sj), count in counts.items():
            matrix[si, sj] += count
            matrix[sj, si] += count


class RepexSampler(_Instrumented, multistate.ReplicaExchangeSampler):
    """Hamiltonian replica exchange (Gibbs 'swap-all' mixing)."""

    def _mix_replicas(self) -> Any:
        if self.replica_mixing_scheme != "swap-all" or self.n_replicas > PYTHON_MIXING_MAX_REPLICAS:
            return super()._mix_replicas()
        return self._timed("mixing", self._swap_all_in_python)

    def _swap_all_in_python(self) -> Any:
        self._n_accepted_matrix[:, :] = 0
        self._n_proposed_matrix[:, :] = 0
        swap_all(
            self._replica_thermodynamic_states,
            np.asarray(self._energy_thermodynamic_states),
            self._n_accepted_matrix,
            self._n_proposed_matrix,
            self.n_replicas**3,
        )
        return self._replica_thermodynamic_states


class IndependentSampler(_Instrumented, multistate.MultiStateSampler):
    """Independent windows: no exchanges, every replica stays in its state."""


SAMPLER_CLASSES: dict[str, Any] = {"replica-exchange": RepexSampler, "independent": IndependentSampler}

"""Multistate storage: the openmmtools NetCDF pair and reading reduced energies back.

openmmtools' ``MultiStateReporter`` writes two NetCDF files: ``<name>.nc`` (energies, replica
states, mixing statistics every iteration) and ``<name>_checkpoint.nc`` (positions, velocities
and boxes every ``checkpoint_interval`` iterations). The ``last_iteration`` variable is written
(and synced) after every other item of an iteration, so readers of a cleanly closed file only see
complete iterations. Crash safety (snapshots, the sidecar) lives in :mod:`fepflow.engine.checkpoint`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fepflow.engine.errors import StorageError

logger = logging.getLogger(__name__)

_EXPERIMENTAL_NOTICE = "The openmmtools.multistate API is experimental"


class _DropExperimentalNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _EXPERIMENTAL_NOTICE not in record.getMessage()


_NOTICE_FILTER = _DropExperimentalNotice()


def quiet_openmmtools_loggers() -> None:
    """Drop the "multistate API is experimental" warning openmmtools logs on every object it builds,
    and pymbar's JAX banner (logged at import) and solver chatter: only their errors get through."""
    for name in ("pymbar", "pymbar.mbar", "pymbar.mbar_solvers", "pymbar.timeseries"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for name in (
        "openmmtools.multistate.multistatesampler",
        "openmmtools.multistate.multistatereporter",
        "openmmtools.multistate.replicaexchange",
    ):
        log = logging.getLogger(name)
        if _NOTICE_FILTER not in log.filters:
            log.addFilter(_NOTICE_FILTER)


def storage_files(storage_path: Path) -> tuple[Path, Path]:
    """The analysis file and the checkpoint file of a storage path."""
    storage_path = Path(storage_path)
    checkpoint = storage_path.with_name(storage_path.stem + "_checkpoint" + storage_path.suffix)
    return storage_path, checkpoint


def storage_exists(storage_path: Path) -> bool:
    """Whether any file of the storage pair exists."""
    return any(p.exists() for p in storage_files(storage_path))


@contextlib.contextmanager
def open_reporter(storage_path: Path, mode: str = "r") -> Iterator[Any]:
    """Open a ``MultiStateReporter`` on ``storage_path`` and close it afterwards."""
    from openmmtools import multistate

    quiet_openmmtools_loggers()
    analysis, checkpoint = storage_files(storage_path)
    if not analysis.exists():
        raise StorageError(f"no multistate storage at {analysis}")
    reporter = multistate.MultiStateReporter(str(analysis), checkpoint_storage=checkpoint.name)
    try:
        reporter.open(mode=mode)
    except Exception as exc:
        raise StorageError(f"cannot open multistate storage {analysis}: {exc}") from exc
    try:
        yield reporter
    finally:
        reporter.close()


def read_last_iteration(storage_path: Path) -> int:
    """The last complete iteration stored (0: only the initial energies)."""
    with open_reporter(storage_path) as reporter:
        return int(reporter.read_last_iteration(last_checkpoint=False))


@dataclass(frozen=True, eq=False)
class ReducedEnergies:
    """Reduced potentials (kT) of a multistate run, indexed by the state each sample came from.

    Iteration 0 (the equilibrated starting configuration, the same for every replica) is not a
    sample and is kept apart in ``initial_u_rl``.

    Attributes
    ----------
    u_kln : numpy.ndarray, shape (n_states, n_states, n_iterations)
        ``u_kln[k, l, n]``: reduced potential at state ``l`` of the configuration sampled at state
        ``k`` in iteration ``n + 1``.
    replica_states : numpy.ndarray of int, shape (n_iterations, n_replicas)
        Thermodynamic state of each replica in each iteration (constant without exchanges).
    n_accepted, n_proposed : numpy.ndarray of int, shape (n_states, n_states)
        Exchange attempts between state pairs, summed over all iterations.
    initial_u_rl : numpy.ndarray, shape (n_replicas, n_states)
        Iteration 0 energies, by replica.
    """

    u_kln: np.ndarray
    replica_states: np.ndarray
    n_accepted: np.ndarray
    n_proposed: np.ndarray
    initial_u_rl: np.ndarray

    @property
    def n_states(self) -> int:
        """Number of thermodynamic states."""
        return int(self.u_kln.shape[0])

    @property
    def n_iterations(self) -> int:
        """Number of sampled iterations (iteration 0 excluded)."""
        return int(self.u_kln.shape[2])

    def u_kn(self) -> tuple[np.ndarray, np.ndarray]:
        """The energies as pymbar 4 wants them: ``u_kn`` (states x samples, grouped by the
        state each sample came from) and ``N_k``."""
        k, _, n = self.u_kln.shape
        u_kn = self.u_kln.transpose(1, 0, 2).reshape(k, k * n)
        return u_kn, np.full(k, n, dtype=int)

    def acceptance_matrix(self) -> np.ndarray:
        """Fraction of accepted exchanges between each pair of states (NaN where none proposed)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n_proposed > 0, self.n_accepted / np.maximum(self.n_proposed, 1), np.nan)


def read_reduced_energies(storage_path: Path) -> ReducedEnergies:
    """Read the reduced energy matrix and mixing statistics of a multistate run.

    Parameters
    ----------
    storage_path : pathlib.Path
        The analysis NetCDF file given to :func:`fepflow.engine.sampling.run_multistate`.

    Returns
    -------
    ReducedEnergies
        Complete iterations only (up to the stored ``last_iteration``).

    Raises
    ------
    StorageError
        No storage, or one with no sampled iteration, or replicas not one per state.
    """
    with open_reporter(Path(storage_path)) as reporter:
        return reduced_energies_from(reporter, storage_path)


def reduced_energies_from(reporter: Any, label: object) -> ReducedEnergies:
    """:func:`read_reduced_energies` from an open ``MultiStateReporter`` (also one being written);
    ``label`` names it in errors."""
    last = int(reporter.read_last_iteration(last_checkpoint=False))
    if last < 1:
        raise StorageError(f"{label} holds no sampled iteration yet")
    energies, _neighborhoods, _unsampled = reporter.read_energies()  # (iterations, replicas, states)
    replica_states = np.asarray(reporter.read_replica_thermodynamic_states(), dtype=int)
    n_accepted, n_proposed = reporter.read_mixing_statistics()
    energies = np.asarray(energies, dtype=np.float64)[: last + 1]
    replica_states = replica_states[: last + 1]
    n_iter, n_replicas, n_states = energies.shape
    if n_replicas != n_states:
        raise StorageError(f"expected one replica per state, found {n_replicas} replicas, {n_states} states")
    sampled, states = energies[1:], replica_states[1:]
    u_kln = np.empty((n_states, n_states, n_iter - 1))
    for n in range(n_iter - 1):
        u_kln[states[n], :, n] = sampled[n]
    return ReducedEnergies(
        u_kln=u_kln,
        replica_states=states,
        n_accepted=np.asarray(n_accepted, dtype=np.int64)[1 : last + 1].sum(axis=0),
        n_proposed=np.asarray(n_proposed, dtype=np.int64)[1 : last + 1].sum(axis=0),
        initial_u_rl=energies[0],
    )

"""MBAR analysis of a multistate run: equilibration, decorrelation, ΔG, overlap, mixing, convergence.

The recipe follows openmmtools' ``MultiStateSamplerAnalyzer``:

1. The *effective energy* timeseries ``u_n = sum_k u_kk(n)`` (each state's own reduced potential,
   summed over states) drives equilibration detection (``pymbar.timeseries.detect_equilibration``,
   at most ~100 candidate origins) and gives the statistical inefficiency g.
2. The post-equilibration iterations are subsampled every g (``subsample_correlated_data``); the
   same iterations are kept for every state.
3. MBAR (pymbar 4) on the kept samples: ΔG = f_last - f_0 and its uncertainty, all in kT; the
   overlap matrix. The state transition matrix comes from the replicas' state sequences, and with it
   the replicas' mixing: round trips (a replica walking from the first state to the last and back,
   counted over all replicas) and the smallest exchange acceptance between neighbouring states.
4. Forward/reverse convergence: ΔG from the first / last 10 %, 20 %, ... 100 % of the kept samples.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from openmm import unit

from fepflow.engine.storage import ReducedEnergies, read_reduced_energies

logger = logging.getLogger(__name__)


def _quiet_pymbar() -> None:
    """pymbar logs a JAX banner at import and solver chatter on every fit; keep only its errors."""
    from fepflow.engine.storage import quiet_openmmtools_loggers

    quiet_openmmtools_loggers()


def kT_kcal_per_mol(temperature_K: float) -> float:
    """The thermal energy kT, in kcal/mol, at ``temperature_K``."""
    kT = unit.MOLAR_GAS_CONSTANT_R * temperature_K * unit.kelvin
    return float(kT.value_in_unit(unit.kilocalorie_per_mole))


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class MBARResult:
    """The free energy estimate of one multistate run. Energies are in kT.

    Attributes
    ----------
    dg_kT, ddg_kT : float
        ΔG from the first to the last state, and its MBAR standard error.
    f_k_kT, df_k_kT : numpy.ndarray
        Free energy of each state relative to state 0, and errors.
    overlap_matrix : numpy.ndarray
        MBAR overlap matrix (rows sum to 1).
    min_neighbour_overlap : float
        Smallest overlap between neighbouring states (below ~0.03 the estimate is unreliable).
    transition_matrix : numpy.ndarray
        Symmetrised empirical state-to-state transition probabilities per iteration.
    acceptance_matrix : numpy.ndarray
        Accepted / proposed exchanges per state pair (NaN where none were proposed).
    n_iterations, equilibration_iterations : int
        Sampled iterations, and those discarded as equilibration.
    statistical_inefficiency : float
        g of the effective energy timeseries.
    n_uncorrelated_samples : int
        Kept samples per state.
    convergence_fractions : numpy.ndarray
        Fractions of the kept samples used for the convergence series.
    forward_dg_kT, forward_ddg_kT, reverse_dg_kT, reverse_ddg_kT : numpy.ndarray
        ΔG and errors from the first (forward) or last (reverse) fraction of the kept samples.
    round_trips : int or None
        Replicas' completed walks first state -> last state -> first state, summed over replicas
        (None without replica state sequences).
    min_neighbour_acceptance : float or None
        Smallest accepted share of proposed exchanges between neighbouring states (None where no
        exchange was proposed: independent sampling).
    """

    dg_kT: float
    ddg_kT: float
    f_k_kT: np.ndarray
    df_k_kT: np.ndarray
    overlap_matrix: np.ndarray
    min_neighbour_overlap: float
    transition_matrix: np.ndarray
    acceptance_matrix: np.ndarray
    n_iterations: int
    equilibration_iterations: int
    statistical_inefficiency: float
    n_uncorrelated_samples: int
    convergence_fractions: np.ndarray
    forward_dg_kT: np.ndarray
    forward_ddg_kT: np.ndarray
    reverse_dg_kT: np.ndarray
    reverse_ddg_kT: np.ndarray
    round_trips: int | None = None
    min_neighbour_acceptance: float | None = None

    @property
    def n_states(self) -> int:
        """Number of thermodynamic states."""
        return len(self.f_k_kT)

    def dg_kcal_per_mol(self, temperature_K: float) -> float:
        """ΔG in kcal/mol at ``temperature_K``."""
        return self.dg_kT * kT_kcal_per_mol(temperature_K)

    def ddg_kcal_per_mol(self, temperature_K: float) -> float:
        """Standard error of ΔG in kcal/mol at ``temperature_K``."""
        return self.ddg_kT * kT_kcal_per_mol(temperature_K)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays as lists, NaN as None)."""

        def plain(value: Any) -> Any:
            if isinstance(value, np.ndarray):
                return [plain(v) for v in value.tolist()]
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return value

        return {key: plain(value) for key, value in asdict(self).items()}


def effective_energy(u_kln: np.ndarray) -> np.ndarray:
    """``u_n = sum_k u_kln[k, k, n]``: each state's sample at its own state, summed over states."""
    k = np.arange(u_kln.shape[0])
    return np.asarray(u_kln[k, k, :].sum(axis=0))


def decorrelated_indices(u_kln: np.ndarray, max_candidates: int = 100) -> tuple[np.ndarray, int, float]:
    """Equilibration detection and subsampling on the effective energy.

    Returns
    -------
    indices : numpy.ndarray of int
        Kept iterations (0-based along the last axis of ``u_kln``).
    t0 : int
        Iterations discarded as equilibration.
    g : float
        Statistical inefficiency of the post-equilibration effective energy.
    """
    _quiet_pymbar()
    from pymbar import timeseries

    u_n = effective_energy(u_kln)
    n = len(u_n)
    if n < 3 or np.ptp(u_n) == 0.0:
        return np.arange(n), 0, 1.0
    t0, g, _ = timeseries.detect_equilibration(u_n, fast=True, nskip=max(1, n // max_candidates))
    t0 = int(t0)
    indices = np.asarray(timeseries.subsample_correlated_data(u_n[t0:], g=g), dtype=int) + t0
    return indices, t0, float(g)


def _exp_estimate(work: np.ndarray) -> float:
    """Zwanzig's exponential average, -ln <exp(-w)>, computed without overflow."""
    neg = -np.asarray(work, dtype=float)
    top = float(neg.max())
    return -(top + math.log(float(np.exp(neg - top).mean())))


def neighbour_bar_guess(u_kln: np.ndarray) -> np.ndarray:
    """Free energies (kT, state 0 = 0) chained from BAR between neighbouring states.

    Only a starting point for MBAR. Where BAR fails for a pair (no overlap at all, as in the first
    iterations of a short run) the forward exponential average stands in for it.
    """
    from pymbar.other_estimators import bar

    k = u_kln.shape[0]
    f_k = np.zeros(k)
    for i in range(k - 1):
        w_f = u_kln[i, i + 1] - u_kln[i, i]
        w_r = u_kln[i + 1, i] - u_kln[i + 1, i + 1]
        try:
            step = float(
                bar(w_f, w_r, method="bisection", compute_uncertainty=False, maximum_iterations=100)[
                    "Delta_f"
                ]
            )
        except Exception:  # pymbar raises several unrelated types (BoundsError, ConvergenceError, ...)
            step = _exp_estimate(w_f)
        if not math.isfinite(step):
            step = _exp_estimate(w_f)
        f_k[i + 1] = f_k[i] + step
    return f_k


def mbar_free_energies(u_kln: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MBAR on ``u_kln`` (states x states x samples per state).

    Returns
    -------
    f_k, df_k : numpy.ndarray
        Free energies relative to state 0 and their errors (kT).
    overlap : numpy.ndarray
        The overlap matrix.
    """
    _quiet_pymbar()
    from pymbar import MBAR

    k, _, n = u_kln.shape
    u_kn = u_kln.transpose(1, 0, 2).reshape(k, k * n)
    # BAR between neighbours as the starting point: with the default (zeros) the solver fails to
    # converge when states differ by tens of kT, as annihilating a polar molecule's charges does
    # (acetic acid: 10-70 kT between neighbouring states with well-overlapping distributions).
    # The guess is computed here rather than with ``initialize="BAR"``: pymbar 4.0.3's own version
    # raises NameError (an unimported ConvergenceError) whenever one neighbour pair's BAR fails.
    guess = neighbour_bar_guess(u_kln)
    mbar = MBAR(u_kn, np.full(k, n, dtype=int), initial_f_k=guess)
    diffs = mbar.compute_free_energy_differences(compute_uncertainty=True)
    overlap = mbar.compute_overlap()["matrix"]
    f_k, df_k = np.asarray(diffs["Delta_f"][0]), np.asarray(diffs["dDelta_f"][0], dtype=float)
    if not np.all(np.isfinite(df_k)):
        # MBAR's asymptotic covariance can come out with negative diagonal entries when there are few
        # samples (a smoke run's handful): estimate those errors by bootstrap over each state's samples
        df_k = np.where(np.isfinite(df_k), df_k, bootstrap_errors(u_kln, f_k, guess))
    return f_k, df_k, np.asarray(overlap)


def bootstrap_errors(
    u_kln: np.ndarray, f_k: np.ndarray, guess: np.ndarray, n_bootstrap: int = 20
) -> np.ndarray:
    """Standard deviations of MBAR's ``f_k`` over ``n_bootstrap`` resamplings of each state's samples
    (seeded: the same data give the same errors); where too few resamplings converge, the distance
    between MBAR and the chain of neighbour BAR estimates stands in."""
    from pymbar import MBAR

    k, _, n = u_kln.shape
    rng = np.random.default_rng(20261130)
    estimates = []
    for _ in range(n_bootstrap):
        picks = rng.integers(0, n, size=(k, n))
        resampled = np.stack([u_kln[i][:, picks[i]] for i in range(k)])
        try:
            mbar = MBAR(
                resampled.transpose(1, 0, 2).reshape(k, k * n), np.full(k, n, dtype=int), initial_f_k=guess
            )
            estimates.append(
                np.asarray(mbar.compute_free_energy_differences(compute_uncertainty=False)["Delta_f"][0])
            )
        except Exception:  # pymbar raises several unrelated types on a degenerate resampling
            continue
    if len(estimates) >= n_bootstrap // 2:
        spread = np.std(np.asarray(estimates), axis=0, ddof=1)
        if np.all(np.isfinite(spread)):
            return np.asarray(spread)
    return np.abs(f_k - guess)


def transition_matrix(replica_states: np.ndarray, n_states: int) -> np.ndarray:
    """Symmetrised empirical state transition matrix from replicas' state sequences.

    Parameters
    ----------
    replica_states : numpy.ndarray of int, shape (n_iterations, n_replicas)
        State of each replica in each iteration.
    n_states : int
        Number of states.
    """
    counts = np.zeros((n_states, n_states))
    states = np.asarray(replica_states, dtype=int)
    for before, after in itertools.pairwise(states):
        np.add.at(counts, (before, after), 1.0)
    counts = 0.5 * (counts + counts.T)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / np.maximum(totals, 1e-300), np.eye(n_states))


def round_trips(replica_states: np.ndarray, n_states: int) -> int:
    """Completed round trips first state -> last state -> first state, summed over the replicas.

    Parameters
    ----------
    replica_states : numpy.ndarray of int, shape (n_iterations, n_replicas)
        State of each replica in each iteration.
    n_states : int
        Number of states.
    """
    states = np.asarray(replica_states, dtype=int)
    if n_states < 2 or states.size == 0:
        return 0
    trips = 0
    for walk in states.T:
        target, half_done = None, False  # the end a replica heads for once it has touched one
        for state in walk:
            if state not in (0, n_states - 1):
                continue
            if target is None:
                target = n_states - 1 - state
            elif state == target:
                trips += int(half_done)
                half_done = not half_done
                target = n_states - 1 - state
    return trips


def min_neighbour_acceptance(acceptance: np.ndarray | None) -> float | None:
    """Smallest acceptance between neighbouring states (None where none was proposed)."""
    if acceptance is None or len(acceptance) < 2:
        return None
    pairs = [acceptance[i, i + 1] for i in range(len(acceptance) - 1)]
    pairs += [acceptance[i + 1, i] for i in range(len(acceptance) - 1)]
    finite = [float(x) for x in pairs if np.isfinite(x)]
    return min(finite) if finite else None


def _convergence(u_kln: np.ndarray, fractions: np.ndarray) -> tuple[np.ndarray, ...]:
    n = u_kln.shape[2]
    series = np.full((4, len(fractions)), np.nan)
    for i, fraction in enumerate(fractions):
        size = max(1, math.ceil(fraction * n))
        for row, window in ((0, slice(0, size)), (2, slice(n - size, n))):
            try:
                f_k, df_k, _ = mbar_free_energies(u_kln[:, :, window])
            except Exception as exc:  # too few samples for MBAR to converge
                logger.debug("MBAR on %d samples failed: %s", size, exc)
                continue
            series[row, i], series[row + 1, i] = f_k[-1], df_k[-1]
    return tuple(series)


def analyse(
    u_kln: np.ndarray,
    *,
    replica_states: np.ndarray | None = None,
    acceptance: np.ndarray | None = None,
    convergence_points: int = 10,
) -> MBARResult:
    """Analyse reduced energies indexed by sampled state (see :class:`ReducedEnergies`).

    Parameters
    ----------
    u_kln : numpy.ndarray, shape (n_states, n_states, n_iterations)
        Reduced potentials, kT.
    replica_states : numpy.ndarray, optional
        Replica state sequences, for the transition matrix (identity without them).
    acceptance : numpy.ndarray, optional
        Exchange acceptance matrix (NaN without it).
    convergence_points : int
        Points of the forward/reverse series (10: 10 %, 20 %, ... 100 %).

    Returns
    -------
    MBARResult
    """
    u_kln = np.asarray(u_kln, dtype=float)
    k, _, n = u_kln.shape
    if n < 1:
        raise ValueError("no samples to analyse")
    indices, t0, g = decorrelated_indices(u_kln)
    kept = u_kln[:, :, indices]
    f_k, df_k, overlap = mbar_free_energies(kept)
    fractions = np.linspace(1.0 / convergence_points, 1.0, convergence_points)
    fwd, dfwd, rev, drev = _convergence(kept, fractions)
    transitions = np.eye(k) if replica_states is None else transition_matrix(replica_states, k)
    return MBARResult(
        dg_kT=float(f_k[-1]),
        ddg_kT=float(df_k[-1]),
        f_k_kT=_frozen(f_k),
        df_k_kT=_frozen(df_k),
        overlap_matrix=_frozen(overlap),
        min_neighbour_overlap=float(min(overlap[i, i + 1] for i in range(k - 1))),
        transition_matrix=_frozen(transitions),
        acceptance_matrix=_frozen(np.full((k, k), np.nan) if acceptance is None else acceptance),
        n_iterations=n,
        equilibration_iterations=t0,
        statistical_inefficiency=g,
        n_uncorrelated_samples=len(indices),
        convergence_fractions=_frozen(fractions),
        forward_dg_kT=_frozen(fwd),
        forward_ddg_kT=_frozen(dfwd),
        reverse_dg_kT=_frozen(rev),
        reverse_ddg_kT=_frozen(drev),
        round_trips=None if replica_states is None else round_trips(replica_states, k),
        min_neighbour_acceptance=min_neighbour_acceptance(acceptance),
    )


def analyse_reduced_energies(energies: ReducedEnergies, *, convergence_points: int = 10) -> MBARResult:
    """Analyse the :class:`ReducedEnergies` read from a multistate storage."""
    return analyse(
        energies.u_kln,
        replica_states=energies.replica_states,
        acceptance=energies.acceptance_matrix(),
        convergence_points=convergence_points,
    )


def analyse_storage(storage_path: Path, *, convergence_points: int = 10) -> MBARResult:
    """Read a multistate storage and analyse it."""
    return analyse_reduced_energies(
        read_reduced_energies(storage_path), convergence_points=convergence_points
    )

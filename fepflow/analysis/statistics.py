"""Agreement with experiment: RMSE, MUE, R² and Kendall τ, each with a bootstrap confidence interval.

The statistics are those of cinnabar (``cinnabar.stats``), computed with numpy alone:

* RMSE ``sqrt(mean((calc - expt)²))`` and MUE ``mean(|calc - expt|)``;
* R², the square of Pearson's correlation coefficient (not the coefficient of determination);
* Kendall's τ-b, ``Σ sign(Δx)·sign(Δy) / sqrt(Σ sign(Δx)² · Σ sign(Δy)²)`` over every pair (ties
  counted as in ``scipy.stats.kendalltau``).

The value reported is the statistic of the data as given. Its confidence interval is a percentile
bootstrap as in ``cinnabar.stats.bootstrap_statistic`` with both ``include_true_uncertainty`` and
``include_pred_uncertainty`` on: each of ``n_bootstrap`` replicates draws ``n`` (calc, expt) pairs
with replacement and then draws every value of the replicate from a normal distribution centred on it
with its own uncertainty (computed and experimental), so that the interval reflects both the finite
set of ligands and the error bars (cinnabar 0.2's plots, whose draws are always made so). Since the
draws add the error bars' noise, an error statistic's interval can lie above a value that is small
next to the error bars (as cinnabar's do). Replicates where a statistic is undefined (R² or τ of
constant values) are left out of its interval. The generator is seeded: the same input gives the
same interval.

Ligand ΔG are compared centred (each set minus its own mean), since a relative network fixes only
differences; edge ΔΔG are compared as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from fepflow.models.network_results import AgreementStatistics, Statistic

N_BOOTSTRAP = 1000
"""Bootstrap replicates per interval, as cinnabar."""
CONFIDENCE = 0.95
SEED = 20190
"""Default seed of the bootstrap generator (any fixed number: reproducible intervals)."""

Values = Sequence[float] | np.ndarray
"""Values in kcal/mol: a list or a one-dimensional array."""


def rmse(calc: np.ndarray, expt: np.ndarray) -> float:
    return float(np.sqrt(np.mean((calc - expt) ** 2)))


def mue(calc: np.ndarray, expt: np.ndarray) -> float:
    return float(np.mean(np.abs(calc - expt)))


def r2(calc: np.ndarray, expt: np.ndarray) -> float:
    """Squared Pearson correlation; NaN when either set is constant or has fewer than 2 values."""
    if len(calc) < 2:
        return float("nan")
    dc, de = calc - calc.mean(), expt - expt.mean()
    denominator = float(np.sqrt(np.sum(dc * dc) * np.sum(de * de)))
    if denominator == 0.0:
        return float("nan")
    return float((np.sum(dc * de) / denominator) ** 2)


def kendall_tau(calc: np.ndarray, expt: np.ndarray) -> float:
    """Kendall's τ-b; NaN when either set is constant or has fewer than 2 values."""
    if len(calc) < 2:
        return float("nan")
    i, j = np.triu_indices(len(calc), k=1)
    sc, se = np.sign(calc[i] - calc[j]), np.sign(expt[i] - expt[j])
    denominator = float(np.sqrt(np.sum(sc * sc) * np.sum(se * se)))
    if denominator == 0.0:
        return float("nan")
    return float(np.sum(sc * se) / denominator)


STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rmse": rmse,
    "mue": mue,
    "r2": r2,
    "kendall_tau": kendall_tau,
}
"""The statistics reported, by their field in :class:`AgreementStatistics`."""


def bootstrap(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    calc: Values,
    expt: Values,
    calc_sigma: Values | None = None,
    expt_sigma: Values | None = None,
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> Statistic | None:
    """``statistic`` of the data and its percentile bootstrap interval (see the module); None when it
    is undefined for the data themselves (e.g. R² of one value)."""
    c, e = np.asarray(calc, dtype=float), np.asarray(expt, dtype=float)
    if c.shape != e.shape or c.ndim != 1:
        raise ValueError(f"calc and expt must be two lists of one length, got {c.shape} and {e.shape}")
    dc = np.zeros_like(c) if calc_sigma is None else np.abs(np.asarray(calc_sigma, dtype=float))
    de = np.zeros_like(e) if expt_sigma is None else np.abs(np.asarray(expt_sigma, dtype=float))
    value = statistic(c, e) if len(c) else float("nan")
    if not np.isfinite(value):
        return None
    rng = np.random.default_rng(seed)
    samples = np.empty(n_bootstrap)
    for k in range(n_bootstrap):
        idx = rng.integers(0, len(c), size=len(c))
        samples[k] = statistic(rng.normal(c[idx], dc[idx]), rng.normal(e[idx], de[idx]))
    samples = samples[np.isfinite(samples)]
    if not len(samples):
        return Statistic(value=value, low=value, high=value, confidence=confidence)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return Statistic(value=value, low=float(low), high=float(high), confidence=confidence)


def agreement(
    calc: Values,
    expt: Values,
    calc_sigma: Values | None = None,
    expt_sigma: Values | None = None,
    *,
    centre: bool = False,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = SEED,
) -> AgreementStatistics:
    """RMSE, MUE, R² and Kendall τ of ``calc`` against ``expt`` with their intervals; ``centre``
    subtracts each set's mean first (ligand ΔG of a relative network)."""
    c, e = np.asarray(calc, dtype=float), np.asarray(expt, dtype=float)
    if centre and len(c):
        c, e = c - c.mean(), e - e.mean()
    values = {
        name: bootstrap(fn, c, e, calc_sigma, expt_sigma, n_bootstrap=n_bootstrap, seed=seed)
        for name, fn in STATISTICS.items()
    }
    return AgreementStatistics(n=len(c), **values)

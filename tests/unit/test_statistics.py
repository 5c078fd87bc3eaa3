"""Statistics against experiment with known answers, and their bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fepflow.analysis.statistics import agreement, bootstrap, kendall_tau, r2, rmse


def test_perfect_agreement_has_zero_error_and_perfect_correlation() -> None:
    x = [-9.1, -8.2, -7.7, -10.4, -6.9]
    stats = agreement(x, x)
    assert stats.n == 5
    assert stats.rmse is not None and stats.mue is not None and stats.r2 is not None
    assert stats.kendall_tau is not None
    assert (stats.rmse.value, stats.rmse.low, stats.rmse.high) == (0.0, 0.0, 0.0)
    assert (stats.mue.value, stats.mue.low, stats.mue.high) == (0.0, 0.0, 0.0)
    assert stats.r2.value == pytest.approx(1.0) and stats.r2.low == pytest.approx(1.0)
    assert stats.kendall_tau.value == 1.0 and stats.kendall_tau.low == 1.0 and stats.kendall_tau.high == 1.0
    assert stats.rmse.confidence == 0.95


def test_a_hand_computed_case() -> None:
    calc, expt = [1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 5.0]
    stats = agreement(calc, expt)
    # differences 0, -1, 1, -1
    assert stats.rmse is not None and stats.rmse.value == pytest.approx(math.sqrt(3 / 4))
    assert stats.mue is not None and stats.mue.value == pytest.approx(0.75)
    # deviations (-1.5, -0.5, 0.5, 1.5) and (-1.75, 0.25, -0.75, 2.25): Σ 5.5, 5 and 8.75
    assert stats.r2 is not None and stats.r2.value == pytest.approx(5.5**2 / (5 * 8.75))
    # 6 pairs, one discordant (2, 3): (5 - 1) / 6
    assert stats.kendall_tau is not None and stats.kendall_tau.value == pytest.approx(4 / 6)
    for s in (stats.rmse, stats.mue, stats.r2, stats.kendall_tau):
        assert s.low <= s.value + 1e-12 and s.high >= s.low


def test_kendall_tau_b_counts_ties_as_scipy_does() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=30).astype(float)  # many ties
    y = x + rng.integers(-2, 3, size=30)
    assert kendall_tau(x, y) == pytest.approx(scipy_stats.kendalltau(x, y)[0], abs=1e-12)
    assert r2(x, y) == pytest.approx(scipy_stats.pearsonr(x, y)[0] ** 2, abs=1e-12)


def test_undefined_statistics_are_none() -> None:
    stats = agreement([1.0], [2.0])
    assert stats.r2 is None and stats.kendall_tau is None
    assert stats.rmse is not None and stats.rmse.value == 1.0
    assert agreement([1.0, 1.0], [2.0, 3.0]).r2 is None  # constant computed values
    with pytest.raises(ValueError, match="one length"):
        bootstrap(rmse, [1.0, 2.0], [1.0])


def test_the_interval_covers_the_truth_and_reflects_the_uncertainties() -> None:
    rng = np.random.default_rng(11)
    expt = rng.normal(-9.0, 1.5, size=200)
    calc = expt + rng.normal(0.0, 1.0, size=200)  # an RMSE of 1 kcal/mol
    s = bootstrap(rmse, calc, expt)
    assert s is not None and s.low < 1.0 < s.high
    assert s.high - s.low < 0.25  # 200 pairs pin it to about ±0.1
    assert bootstrap(rmse, calc, expt) == s  # seeded: reproducible
    assert bootstrap(rmse, calc, expt, seed=1) != s

    # the same perfect data with error bars of 0.5 on both sides: each replicate's differences are
    # N(0, 0.5·sqrt(2)), so RMSE² ~ 0.5 χ²(20) / 20, whose 95 % interval is [0.4795, 1.7085] · 0.5
    x = list(expt[:20])
    wide = bootstrap(rmse, x, x, [0.5] * 20, [0.5] * 20)
    assert wide is not None and wide.value == 0.0
    assert wide.low == pytest.approx(math.sqrt(0.5 * 0.4795), abs=0.04)
    assert wide.high == pytest.approx(math.sqrt(0.5 * 1.7085), abs=0.05)


def test_centred_comparison_ignores_an_offset() -> None:
    expt = [-9.0, -8.0, -11.0, -7.5]
    calc = [v + 3.0 for v in expt]
    assert agreement(calc, expt).rmse.value == pytest.approx(3.0)  # type: ignore[union-attr]
    assert agreement(calc, expt, centre=True).rmse.value == pytest.approx(0.0, abs=1e-12)  # type: ignore[union-attr]

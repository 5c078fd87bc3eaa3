"""swap_all: fepflow's pure-Python 'swap-all' replica exchange samples the right permutations."""

from __future__ import annotations

import itertools

import numpy as np

from fepflow.engine._samplers import swap_all


def test_swap_all_samples_the_boltzmann_distribution_of_permutations() -> None:
    rng = np.random.default_rng(7)
    u = np.array([[0.0, 1.0, 3.0], [0.5, 0.2, 1.5], [2.0, 0.7, 0.1]])  # u[replica, state], kT
    perms = list(itertools.permutations(range(3)))
    weights = np.array([np.exp(-sum(u[r, s] for r, s in enumerate(p))) for p in perms])
    expected = weights / weights.sum()
    states = np.arange(3)
    accepted, proposed = np.zeros((3, 3), dtype=int), np.zeros((3, 3), dtype=int)
    counts = dict.fromkeys(perms, 0)
    calls = 4000
    for _ in range(calls):
        swap_all(states, u, accepted, proposed, 27, rng)
        counts[tuple(int(s) for s in states)] += 1
    observed = np.array([counts[p] / calls for p in perms])
    assert np.allclose(observed, expected, atol=0.03), (observed, expected)
    assert proposed.sum() == 2 * 27 * calls  # both directions of every attempt, as openmmtools counts
    assert (accepted <= proposed).all() and (accepted == accepted.T).all()


def test_swap_all_never_swaps_into_an_impossible_state() -> None:
    rng = np.random.default_rng(0)
    u = np.array([[0.0, np.inf], [np.inf, 0.0]])
    states = np.array([0, 1])
    accepted, proposed = np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int)
    swap_all(states, u, accepted, proposed, 50, rng)
    assert states.tolist() == [0, 1]
    assert accepted[0, 1] == 0 and proposed[0, 1] > 0

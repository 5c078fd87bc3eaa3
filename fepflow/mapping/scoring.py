"""Mapping scores: the LOMAP-like exponential of the number of heavy atoms left unmapped.

    score = exp(-beta * (n_heavy(A) + n_heavy(B) - 2 * n_mapped_heavy))

with ``beta = 0.1`` (LOMAP's MCSR term, Liu et al. 2013). A perfect mapping (same heavy-atom graph)
scores 1; every heavy atom that has to appear or disappear costs a factor exp(-0.1) ≈ 0.905. The
count is of both molecules' unique heavy atoms, so toluene -> phenol (methyl C and hydroxyl O
unique) scores exp(-0.2) ≈ 0.819. Hydrogens do not count: they follow their heavy atoms.
"""

from __future__ import annotations

import math

DEFAULT_BETA = 0.1


def lomap_like_score(
    n_heavy_a: int, n_heavy_b: int, n_mapped_heavy: int, *, beta: float = DEFAULT_BETA
) -> float:
    """The score in (0, 1] of a mapping that matches ``n_mapped_heavy`` heavy atoms."""
    if n_mapped_heavy < 0 or n_mapped_heavy > min(n_heavy_a, n_heavy_b):
        raise ValueError(
            f"{n_mapped_heavy} mapped heavy atoms is impossible for molecules of {n_heavy_a} and {n_heavy_b}"
        )
    if beta < 0:
        raise ValueError(f"beta must be >= 0, not {beta}")
    return math.exp(-beta * (n_heavy_a + n_heavy_b - 2 * n_mapped_heavy))

"""The lambda schedule of a hybrid: one master lambda, per-term lambdas derived from it.

    lambda_bonded, lambda_*_core        = lambda                  (A -> B over the whole path)
    lambda_electrostatics_delete        = min(1, 2 lambda)        (A's unique charges off, first half)
    lambda_sterics_insert               = min(1, 2 lambda)        (B's unique atoms grow in, first half)
    lambda_sterics_delete               = max(0, 2 lambda - 1)    (A's unique atoms vanish, second half)
    lambda_electrostatics_insert        = max(0, 2 lambda - 1)    (B's unique charges on, second half)

So a unique atom is never charged while its Lennard-Jones is softened (charges carry no softcore).

Windows: 11 by default, two more for every unique heavy atom beyond four (A's and B's counted
together), at most 31: a larger change needs closer states for the neighbours to overlap.
"""

from __future__ import annotations

import numpy as np

from fepflow.hybrid.nonbonded import (
    ELEC_CORE,
    ELEC_DELETE,
    ELEC_INSERT,
    STERICS_CORE,
    STERICS_DELETE,
    STERICS_INSERT,
)
from fepflow.hybrid.valence import BONDED

DEFAULT_WINDOWS = 11
MAX_WINDOWS = 31


def lambda_values(lam: float) -> dict[str, float]:
    """Every hybrid global parameter at master ``lam`` in [0, 1]."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must lie in [0, 1], not {lam}")
    first, second = min(1.0, 2.0 * lam), max(0.0, 2.0 * lam - 1.0)
    return {
        BONDED: lam,
        ELEC_CORE: lam,
        STERICS_CORE: lam,
        ELEC_DELETE: first,
        STERICS_INSERT: first,
        STERICS_DELETE: second,
        ELEC_INSERT: second,
    }


def default_windows(n_unique_heavy_atoms: int) -> int:
    """11, plus 2 per unique heavy atom beyond 4, at most 31."""
    return int(min(MAX_WINDOWS, DEFAULT_WINDOWS + 2 * max(0, n_unique_heavy_atoms - 4)))


def schedule(n_windows: int = DEFAULT_WINDOWS) -> list[float]:
    """Master lambdas, evenly spaced from 0 to 1."""
    if n_windows < 2:
        raise ValueError(f"a schedule needs at least two windows, not {n_windows}")
    return [float(x) for x in np.round(np.linspace(0.0, 1.0, n_windows), 10)]

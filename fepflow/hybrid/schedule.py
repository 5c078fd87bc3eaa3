"""The lambda schedule of a hybrid: how many master lambdas, and where.

Each master lambda sets every per-term lambda through :func:`fepflow.hybrid.parameters.lambda_values`.
Windows: 11 by default, two more for every unique heavy atom beyond four (A's and B's counted
together), at most 31: a larger change needs closer states for the neighbours to overlap.
"""

from __future__ import annotations

import numpy as np

DEFAULT_WINDOWS = 11
MAX_WINDOWS = 31


def default_windows(n_unique_heavy_atoms: int) -> int:
    """11, plus 2 per unique heavy atom beyond 4, at most 31."""
    return int(min(MAX_WINDOWS, DEFAULT_WINDOWS + 2 * max(0, n_unique_heavy_atoms - 4)))


def schedule(n_windows: int = DEFAULT_WINDOWS) -> list[float]:
    """Master lambdas, evenly spaced from 0 to 1."""
    if n_windows < 2:
        raise ValueError(f"a schedule needs at least two windows, not {n_windows}")
    return [float(x) for x in np.round(np.linspace(0.0, 1.0, n_windows), 10)]

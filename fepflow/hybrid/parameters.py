"""The hybrid's λ global parameters: their names, and their values at a master λ (a leaf module).

    lambda_bonded, lambda_*_core        = lambda                  (A -> B over the whole path)
    lambda_electrostatics_delete        = min(1, 2 lambda)        (A's unique charges off, first half)
    lambda_sterics_insert               = min(1, 2 lambda)        (B's unique atoms grow in, first half)
    lambda_sterics_delete               = max(0, 2 lambda - 1)    (A's unique atoms vanish, second half)
    lambda_electrostatics_insert        = max(0, 2 lambda - 1)    (B's unique charges on, second half)

So a unique atom is never charged while its Lennard-Jones is softened (charges carry no softcore).
The forces that read these parameters are built in :mod:`fepflow.hybrid.valence` (``BONDED``) and
:mod:`fepflow.hybrid.nonbonded` (the others).
"""

from __future__ import annotations

BONDED = "lambda_bonded"
ELEC_CORE = "lambda_electrostatics_core"
ELEC_DELETE = "lambda_electrostatics_delete"
ELEC_INSERT = "lambda_electrostatics_insert"
STERICS_CORE = "lambda_sterics_core"
STERICS_DELETE = "lambda_sterics_delete"
STERICS_INSERT = "lambda_sterics_insert"
NONBONDED_PARAMETERS = (ELEC_CORE, ELEC_DELETE, ELEC_INSERT, STERICS_CORE, STERICS_DELETE, STERICS_INSERT)
LAMBDA_PARAMETERS = (BONDED, *NONBONDED_PARAMETERS)


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

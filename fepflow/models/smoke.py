"""Whether a transformation's settings are a smoke run: sampling too short for its numbers to mean anything.

The ``smoke`` presets of the chemistry protocols (``fepflow.protocols.*.settings.SMOKE``) sample a few
femtoseconds per state, to check that a campaign runs through the stack on a CPU in minutes. A preset's
name is not stored with a transformation (its settings are, with every default written out), so a smoke
run is recognised by its settings: less than :data:`SMOKE_MAX_PS_PER_STATE` of production sampling per
state. That covers the ``smoke`` presets and any overrides of them, and no preset meant for numbers
(``fast`` samples 10-50 ps per state, ``production`` 5 ns). It lives with the model so that any layer
(the store's network estimates, the hub, the results page) can ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SMOKE_MAX_PS_PER_STATE = 1.0
"""Below this much production sampling per state (ps), a result is a smoke run's."""


def sampling_ps_per_state(settings: Mapping[str, Any]) -> float | None:
    """Production sampling per state (ps) of a chemistry protocol's settings; None without a simulation section."""
    simulation = settings.get("simulation")
    if not isinstance(simulation, Mapping):
        return None
    try:
        iterations = float(simulation["production_iterations"])
        steps = float(simulation["steps_per_iteration"])
        timestep_fs = float(simulation["timestep_fs"])
    except (KeyError, TypeError, ValueError):
        return None
    return iterations * steps * timestep_fs * 1e-3


def is_smoke(settings: Mapping[str, Any]) -> bool:
    """True for settings whose sampling is a smoke run's (see the module docstring)."""
    ps = sampling_ps_per_state(settings)
    return ps is not None and ps < SMOKE_MAX_PS_PER_STATE

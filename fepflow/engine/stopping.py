"""When a multistate run stops: after the iterations asked for, or earlier once a check is satisfied.

The engine knows nothing of free energies: a caller (the protocols, with MBAR) passes a
:data:`StopCheck`, which :func:`fepflow.engine.sampling.run_multistate` calls at every checkpoint
with the reduced energies sampled so far. The run ends at the first checkpoint where it answers
``stop=True`` (reason ``"precision"``), or at its maximum length (``"maximum"``). Without a check a
run ends after the iterations asked for (``"length"``); extensions run their length (``"extension"``).

What happened is written to the storage's sidecar, so a finished run called again reports it, and an
extension of a run that stopped early counts from where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fepflow.engine.storage import ReducedEnergies

StopReason = Literal["length", "precision", "maximum", "extension"]
STOP_KEY = "stop"
"""Sidecar entry: how the last call ended (:meth:`Stop.to_dict`)."""
EARLY_STOP_KEY = "stopped_early_at"
"""Sidecar entry: the iteration where a check stopped the run (the base of later extensions)."""


@dataclass(frozen=True)
class Verdict:
    """A stop check's answer: whether to stop, and why (or why not), in words."""

    stop: bool
    detail: str


StopCheck = Callable[[ReducedEnergies], Verdict]
"""Called at each checkpoint with every iteration sampled so far."""


@dataclass(frozen=True)
class Stop:
    """Why a run ended where it did.

    Attributes
    ----------
    reason : {"length", "precision", "maximum", "extension"}
        ``length``: the iterations asked for, no check; ``precision``: the check was satisfied;
        ``maximum``: the maximum length came first; ``extension``: an extension ran its length.
    iteration : int
        The run's last iteration.
    detail : str
        The check's last verdict, or what was asked for.
    """

    reason: StopReason
    iteration: int
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "iteration": self.iteration, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, iteration: int) -> Stop:
        """The stop recorded in a sidecar; runs written before stops were recorded ran their length."""
        if not data:
            return cls("length", iteration, f"ran {iteration} iterations")
        return cls(data["reason"], int(data["iteration"]), str(data.get("detail", "")))

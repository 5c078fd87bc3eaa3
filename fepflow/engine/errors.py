"""Errors raised by the simulation engine."""

from __future__ import annotations


class EngineError(RuntimeError):
    """Base class of the engine's errors."""


class PlatformError(EngineError):
    """No usable OpenMM platform, or the requested one does not work on this machine."""


class ScheduleError(EngineError, ValueError):
    """An alchemical lambda schedule that cannot be used."""


class StorageError(EngineError):
    """A multistate storage file that cannot be resumed or read."""


class SimulationError(EngineError):
    """A simulation blew up: NaN or infinite energies, or NaN coordinates.

    Parameters
    ----------
    message : str
        What happened.
    state_index : int or None
        The thermodynamic state the failing replica was in (``None`` when unknown).
    iteration : int or None
        The sampler iteration being computed (``None`` during equilibration).
    replica_index : int or None
        The replica that failed, where known.
    phase : str
        ``"minimization"``, ``"equilibration"`` or ``"sampling"``.
    """

    def __init__(
        self,
        message: str,
        *,
        state_index: int | None,
        iteration: int | None,
        replica_index: int | None = None,
        phase: str = "sampling",
    ) -> None:
        where = [f"phase {phase}"]
        if state_index is not None:
            where.append(f"thermodynamic state {state_index}")
        if replica_index is not None:
            where.append(f"replica {replica_index}")
        if iteration is not None:
            where.append(f"iteration {iteration}")
        super().__init__(f"simulation failed ({', '.join(where)}): {message}")
        self.state_index = state_index
        self.iteration = iteration
        self.replica_index = replica_index
        self.phase = phase

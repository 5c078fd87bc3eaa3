"""OpenMM platform choice, alchemical states, and openmmtools multistate sampling with
checkpoint, resume and extend.

Submodules import OpenMM (and openmmtools lazily, inside functions); nothing here reads the
environment at import.
"""

from fepflow.engine.errors import EngineError, PlatformError, ScheduleError, SimulationError, StorageError

__all__ = ["EngineError", "PlatformError", "ScheduleError", "SimulationError", "StorageError"]

"""Hybrid topologies for relative free energies: core, unique-A and unique-B atoms in one System."""

from fepflow.hybrid.atoms import HybridAtoms, HybridError
from fepflow.hybrid.factory import LAMBDA_PARAMETERS, HybridSystem, build_hybrid
from fepflow.hybrid.positions import hybrid_positions
from fepflow.hybrid.schedule import default_windows, lambda_values, schedule

__all__ = [
    "LAMBDA_PARAMETERS",
    "HybridAtoms",
    "HybridError",
    "HybridSystem",
    "build_hybrid",
    "default_windows",
    "hybrid_positions",
    "lambda_values",
    "schedule",
]

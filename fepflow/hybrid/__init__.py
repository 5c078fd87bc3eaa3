"""Hybrid topologies for relative free energies: core, unique-A and unique-B atoms in one System."""

from fepflow.hybrid.atoms import HybridAtoms, HybridError
from fepflow.hybrid.factory import HybridSystem, build_hybrid
from fepflow.hybrid.parameters import LAMBDA_PARAMETERS, lambda_values
from fepflow.hybrid.positions import hybrid_positions
from fepflow.hybrid.schedule import default_windows, schedule
from fepflow.hybrid.states import HybridLambdaState, hybrid_states

__all__ = [
    "LAMBDA_PARAMETERS",
    "HybridAtoms",
    "HybridError",
    "HybridLambdaState",
    "HybridSystem",
    "build_hybrid",
    "default_windows",
    "hybrid_positions",
    "hybrid_states",
    "lambda_values",
    "schedule",
]

"""Network planning: which ligand pairs to simulate (minimal spanning tree, star, cycles, or given)."""

from fepflow.planning.graphs import add_cycle_edges, minimal_spanning_tree, nodes_off_cycles, star_edges
from fepflow.planning.planner import PlanningError, plan_network, score_pairs

__all__ = [
    "PlanningError",
    "add_cycle_edges",
    "minimal_spanning_tree",
    "nodes_off_cycles",
    "plan_network",
    "score_pairs",
    "star_edges",
]

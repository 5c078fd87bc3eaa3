"""Network planning: from ligands (read from SMILES, SDF or CSV) to a network of transformations.

Absolute networks (:mod:`~fepflow.planning.absolute`): one transformation per ligand. Relative
networks (:mod:`~fepflow.planning.relative`): which ligand pairs to simulate (minimal spanning tree,
star, cycles, or given), over the graph algorithms of :mod:`~fepflow.planning.graphs`. A campaign
(:mod:`~fepflow.planning.campaign`, what ``fepflow plan`` and the hub call): the inputs a chemist has
(ligand file, protein PDB, shape or edges, experimental values) checked and planned, with a report
(:mod:`~fepflow.planning.report`) and a picture (:mod:`~fepflow.planning.drawing`). Every planning
error is a :class:`PlanningError`.
"""

from fepflow.planning.absolute import ABSOLUTE_PROTOCOLS, absolute_network
from fepflow.planning.campaign import CampaignPlan, CampaignRequest, plan_campaign
from fepflow.planning.errors import PlanningError
from fepflow.planning.graphs import add_cycle_edges, minimal_spanning_tree, nodes_off_cycles, star_edges
from fepflow.planning.readers import (
    LigandInput,
    ligands_from_sdf,
    ligands_from_smiles,
    read_edges_csv,
    read_experimental_csv,
    read_ligands_csv,
)
from fepflow.planning.relative import plan_network, score_pairs
from fepflow.planning.settings import protocol_settings

__all__ = [
    "ABSOLUTE_PROTOCOLS",
    "CampaignPlan",
    "CampaignRequest",
    "LigandInput",
    "PlanningError",
    "absolute_network",
    "add_cycle_edges",
    "ligands_from_sdf",
    "ligands_from_smiles",
    "minimal_spanning_tree",
    "nodes_off_cycles",
    "plan_campaign",
    "plan_network",
    "protocol_settings",
    "read_edges_csv",
    "read_experimental_csv",
    "read_ligands_csv",
    "score_pairs",
    "star_edges",
]

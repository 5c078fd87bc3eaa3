"""Atom mappings between two ligands: RDKit MCS with element, ring and stereo rules; scores; drawings.

Indices in a mapping are the atoms of each :class:`~fepflow.models.SmallMoleculeComponent` in its
SMILES order, hydrogens included: the order of the ligand in every system fepflow builds from it.
"""

from fepflow.mapping.drawing import draw_mapping, draw_molecule
from fepflow.mapping.errors import MappingError
from fepflow.mapping.mcs import MappingOptions, map_ligands
from fepflow.mapping.scoring import lomap_like_score

__all__ = [
    "MappingError",
    "MappingOptions",
    "draw_mapping",
    "draw_molecule",
    "lomap_like_score",
    "map_ligands",
]

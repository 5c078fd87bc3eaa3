"""The domain model: components, chemical systems, transformations, networks and tasks."""

from fepflow.models.base import KeyedModel, ModelError, canonical_json
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.serialization import from_dict, from_json, to_dict, to_json
from fepflow.models.states import InvalidTransition, TaskStatus, check_transition
from fepflow.models.systems import ChemicalSystem
from fepflow.models.tasks import ResultRef, Task, task_key
from fepflow.models.transformations import AtomMapping, Transformation

__all__ = [
    "AlchemicalNetwork",
    "AtomMapping",
    "ChemicalSystem",
    "InvalidTransition",
    "KeyedModel",
    "ModelError",
    "ProteinComponent",
    "ResultRef",
    "SmallMoleculeComponent",
    "SolventComponent",
    "Task",
    "TaskStatus",
    "Transformation",
    "canonical_json",
    "check_transition",
    "from_dict",
    "from_json",
    "task_key",
    "to_dict",
    "to_json",
]

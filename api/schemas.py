"""Request and response bodies of the hub (what the OpenAPI document shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TaskKey = str
MAX_KEYS = 10_000


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(..., description="seconds until the token expires")
    expires_at: datetime
    identity: str
    scopes: list[str]


class WhoAmI(BaseModel):
    identity: str
    scopes: list[str]
    expires_at: datetime


class LigandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    smiles: str = Field(..., min_length=1, max_length=5000, description="SMILES of the molecule")
    name: str | None = Field(None, min_length=1, max_length=200, description="name (default: the SMILES)")


class NetworkSubmission(BaseModel):
    """Either a network document (``network``), or a planner body (``ligands`` or ``sdf`` + protocol)."""

    model_config = ConfigDict(extra="forbid")

    scope: str = Field(..., description="org-campaign-project the network is filed under", max_length=200)
    network: dict[str, Any] | None = Field(None, description="a fepflow/1 network document")
    name: str | None = Field(None, min_length=1, max_length=200, description="network name (planner body)")
    ligands: list[LigandIn | str] | None = Field(None, description="ligands as SMILES (planner body)")
    sdf: str | None = Field(None, description="ligands as SDF text (planner body)")
    protocol: str = Field("absolute-hydration", max_length=100, description="protocol (planner body)")
    preset: str | None = Field(None, max_length=100, description="protocol preset, e.g. 'fast'")
    settings: dict[str, Any] | None = Field(None, description="protocol settings merged over the preset")
    repeats: int | None = Field(None, ge=1, le=100, description="repeats per transformation")
    priority: int = Field(0, ge=-1_000_000, le=1_000_000)

    @model_validator(mode="after")
    def _one_source(self) -> NetworkSubmission:
        given = [n for n in ("network", "ligands", "sdf") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'network', 'ligands' or 'sdf'")
        return self


class SubmitResult(BaseModel):
    network: str
    name: str
    scope: str
    created: bool = Field(..., description="True when the network is new in this scope (201)")
    transformations: list[str]
    tasks: list[str]
    created_documents: dict[str, int]


class NetworkSummary(BaseModel):
    key: str
    name: str | None = None
    scopes: list[str]
    n_edges: int | None = None
    created_at: datetime | None = None


class NetworkPage(BaseModel):
    items: list[NetworkSummary]
    next_after: str | None


class NetworkStatus(BaseModel):
    network: str
    counts: dict[str, int]
    total: int
    finished_fraction: float


class EstimateOut(BaseModel):
    transformation: str
    name: str
    protocol: str
    ligand: str | None
    n_tasks: int
    n_repeats: int
    dg_kcal_mol: float | None
    uncertainty_kcal_mol: float | None
    stdev_kcal_mol: float | None
    mbar_error_kcal_mol: float | None


class MoleculeValue(BaseModel):
    molecule: str
    dg_kcal_mol: float
    uncertainty_kcal_mol: float | None
    protocol: str


class NetworkResults(BaseModel):
    network: str
    transformations: list[EstimateOut]
    molecules: list[MoleculeValue]


class TaskOut(BaseModel):
    key: str
    transformation: str
    repeat: int
    status: str
    priority: int = 0
    attempts: int = 0
    networks: list[str] = []
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_error: str | None = None
    traceback: str | None = None
    result: dict[str, Any] | None = None
    extend_iterations: int = 0


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_after: str | None


class TaskKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[TaskKey] = Field(..., min_length=1, max_length=MAX_KEYS)


class PriorityRequest(TaskKeys):
    priority: int = Field(..., ge=-1_000_000, le=1_000_000)


class ExtendRequest(TaskKeys):
    iterations: int = Field(..., ge=1, le=1_000_000, description="extra production iterations")


class RestartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: str | None = Field(None, description="restart the errored tasks of this network")
    tasks: list[TaskKey] | None = Field(None, max_length=MAX_KEYS, description="or only these tasks")
    traceback_pattern: str | None = Field(
        None, max_length=1000, description="only tasks whose traceback matches this regular expression"
    )

    @model_validator(mode="after")
    def _target(self) -> RestartRequest:
        if self.network is None and not self.tasks:
            raise ValueError("give 'network' or 'tasks'")
        return self


class RepeatsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(..., ge=1, le=100, description="new repeats per transformation")
    transformations: list[str] | None = Field(
        None, max_length=MAX_KEYS, description="only these transformations (default: all of the network)"
    )


class TaskChanges(BaseModel):
    changed: list[TaskKey]
    skipped: list[dict[str, str]] = []


class TransformationResults(BaseModel):
    transformation: str
    estimate: dict[str, Any] | None
    repeats: list[dict[str, Any]]

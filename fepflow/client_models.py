"""What the hub answers, as the client sees it (kept apart from the hub's own code: fepflow never imports api/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Token(_Answer):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    expires_at: datetime
    identity: str
    scopes: list[str]


class SubmitResult(_Answer):
    network: str
    name: str
    scope: str
    created: bool
    transformations: list[str]
    tasks: list[str]
    created_documents: dict[str, int]


class NetworkSummary(_Answer):
    key: str
    name: str | None = None
    scopes: list[str]
    n_edges: int | None = None
    created_at: datetime | None = None


class NetworkStatus(_Answer):
    network: str
    counts: dict[str, int]
    total: int
    finished_fraction: float


class Estimate(_Answer):
    transformation: str
    name: str
    protocol: str
    ligand: str | None = None
    n_tasks: int
    n_repeats: int
    dg_kcal_mol: float | None = None
    uncertainty_kcal_mol: float | None = None
    stdev_kcal_mol: float | None = None
    mbar_error_kcal_mol: float | None = None


class MoleculeValue(_Answer):
    molecule: str
    dg_kcal_mol: float
    uncertainty_kcal_mol: float | None = None
    protocol: str


class NetworkResults(_Answer):
    network: str
    transformations: list[Estimate]
    molecules: list[MoleculeValue]


class TaskInfo(_Answer):
    key: str
    transformation: str
    repeat: int
    status: str
    priority: int = 0
    attempts: int = 0
    networks: list[str] = []
    last_error: str | None = None
    traceback: str | None = None
    result: dict[str, Any] | None = None
    extend_iterations: int = 0


class TaskChanges(_Answer):
    changed: list[str]
    skipped: list[dict[str, str]] = []


class TransformationResults(_Answer):
    transformation: str
    estimate: dict[str, Any] | None = None
    repeats: list[dict[str, Any]]


class Checksum(_Answer):
    checksum: str
    type: str


class AccessMethod(_Answer):
    type: str
    access_id: str | None = None


class ContentsObject(_Answer):
    name: str
    id: str | None = None


class DrsObject(_Answer):
    id: str
    name: str | None = None
    self_uri: str
    size: int
    created_time: str
    mime_type: str | None = None
    checksums: list[Checksum]
    access_methods: list[AccessMethod] | None = None
    contents: list[ContentsObject] | None = None

    def sha256(self) -> str | None:
        return next((c.checksum for c in self.checksums if c.type.lower() in ("sha-256", "sha256")), None)


class AccessURL(_Answer):
    url: str
    headers: list[str] | None = None

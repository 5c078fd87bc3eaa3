"""Tasks (one repeat of one transformation) and references to their results."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from fepflow.models.states import TaskStatus


def utcnow() -> datetime:
    """Now, in UTC, to the millisecond (what MongoDB stores)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def task_key(transformation_key: str, repeat: int) -> str:
    """The task's id: fixed by its transformation and repeat index, so resubmission reuses it."""
    digest = hashlib.sha256(f"{transformation_key}/{repeat}".encode()).hexdigest()
    return f"Task-{digest}"


class ResultRef(BaseModel):
    """Where a task's verified result bundle lives."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result_key: str = Field(..., description="id of the result document in the index")
    bundle_sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="sha256 of the bundle manifest")
    size_bytes: int = Field(..., ge=0, description="total size of the bundle, bytes")
    drs_id: str | None = Field(None, description="GA4GH DRS id of the bundle")


class Task(BaseModel):
    """One unit of work: repeat ``repeat`` of transformation ``transformation_key``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    key: str = Field(..., description="Task-<sha256> of transformation key and repeat index")
    transformation_key: str
    repeat: int = Field(..., ge=0, description="repeat index, from 0")
    status: TaskStatus = TaskStatus.WAITING
    priority: int = Field(0, description="higher runs first")
    attempts: int = Field(0, ge=0, description="times the task has started running")
    networks: list[str] = Field(default_factory=list, description="keys of networks that include the task")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = None
    traceback: str | None = None
    result: ResultRef | None = None
    run_id: str | None = Field(None, description="the orchestrator run that last started the task")
    worker: str | None = Field(None, description="the worker that last started the task (name or host:pid)")
    extend_iterations: int = Field(
        0, ge=0, description="sampler iterations wanted beyond the protocol's production length (extension)"
    )

    @classmethod
    def new(
        cls, transformation_key: str, repeat: int, *, priority: int = 0, network: str | None = None
    ) -> Task:
        return cls(
            key=task_key(transformation_key, repeat),
            transformation_key=transformation_key,
            repeat=repeat,
            priority=priority,
            networks=[network] if network else [],
        )

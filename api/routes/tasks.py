"""Tasks: list and filter, priority, cancel, restart errored ones, extend finished ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api import idempotency
from api.deps import ClaimsDep, IndexDep, TaskKey, network_ref, task_refs, transformation_refs
from api.scoping import changeable_task_docs, network_doc, not_covered, task_docs, visible_networks
from api.submission import FieldError
from fepflow.auth.tokens import TokenClaims
from fepflow.hub.schemas import (
    ExtendRequest,
    PriorityRequest,
    RestartRequest,
    TaskChanges,
    TaskKeys,
    TaskOut,
    TaskPage,
)
from fepflow.models.states import InvalidTransition, TaskStatus
from fepflow.store.index import Index
from fepflow.store.patterns import PatternError, compile_pattern

router = APIRouter(prefix="/tasks", tags=["tasks"])


def task_out(doc: dict[str, Any], visible: set[str] | None = None) -> TaskOut:
    """The task as answered; with ``visible``, only the networks the caller may see are listed."""
    return TaskOut(
        key=str(doc["_id"]),
        transformation=doc["transformation"],
        repeat=doc["repeat"],
        status=doc["status"],
        priority=doc.get("priority", 0),
        attempts=doc.get("attempts", 0),
        networks=[n for n in doc.get("networks", []) if visible is None or n in visible],
        created_at=doc.get("created_at"),
        updated_at=doc.get("updated_at"),
        last_error=doc.get("last_error"),
        traceback=doc.get("traceback"),
        result=doc.get("result"),
        extend_iterations=int(doc.get("extend_iterations") or 0),
    )


@router.get("", summary="Tasks of a network, filtered by state or transformation", response_model=TaskPage)
def list_tasks(
    claims: ClaimsDep,
    index: IndexDep,
    network: Annotated[
        str, Query(max_length=200, description="the network: key, unique key prefix or name (required)")
    ],
    status: Annotated[TaskStatus | None, Query()] = None,
    transformation: Annotated[
        str | None, Query(max_length=200, description="only this transformation: key or unique key prefix")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> TaskPage:
    network = network_ref(index, claims, network)
    network_doc(index, claims, network)
    if transformation is not None:
        transformation = transformation_refs(index, claims, [transformation])[0]
    page = index.tasks.page(
        network=network, status=status, transformation=transformation, limit=limit, after=after
    )
    visible = visible_networks(index, claims, sorted({n for d in page.items for n in d.get("networks", [])}))
    return TaskPage(items=[task_out(d, visible) for d in page.items], next_after=page.next_after)


@router.get("/{key}", summary="One task", response_model=TaskOut)
def get_task(key: TaskKey, claims: ClaimsDep, index: IndexDep) -> TaskOut:
    doc = task_docs(index, claims, [key])[key]
    return task_out(doc, visible_networks(index, claims, doc.get("networks", [])))


@router.post("/priority", summary="Set the priority of tasks (higher runs first)", response_model=TaskChanges)
def set_priority(body: PriorityRequest, claims: ClaimsDep, index: IndexDep) -> TaskChanges:
    keys = task_refs(index, claims, body.tasks)
    changeable_task_docs(index, claims, keys)
    index.tasks.set_priorities(keys, body.priority)
    return TaskChanges(changed=list(dict.fromkeys(keys)))


@router.post(
    "/cancel", summary="Cancel tasks (finished ones are left as they are)", response_model=TaskChanges
)
def cancel(body: TaskKeys, claims: ClaimsDep, index: IndexDep) -> TaskChanges:
    keys = task_refs(index, claims, body.tasks)
    changeable_task_docs(index, claims, keys)
    changed, skipped = index.tasks.cancel_many(keys)
    return TaskChanges(changed=changed, skipped=[{"task": k, "reason": r} for k, r in skipped.items()])


@router.post("/restart", summary="Move errored tasks back to waiting", response_model=TaskChanges)
def restart(body: RestartRequest, claims: ClaimsDep, index: IndexDep) -> TaskChanges:
    if body.traceback_pattern is not None:
        try:
            compile_pattern(body.traceback_pattern)
        except PatternError as exc:
            raise FieldError("traceback_pattern", str(exc)) from None
    network = None if body.network is None else network_ref(index, claims, body.network)
    if network is not None:
        network_doc(index, claims, network)
    given = task_refs(index, claims, body.tasks) if body.tasks else None
    if given:
        changeable_task_docs(index, claims, given)
    keys, shared = _restartable(index, claims, network, given)
    moved = index.tasks.restart_errored(network=network, keys=keys, pattern=body.traceback_pattern)
    return TaskChanges(changed=moved, skipped=[{"task": k, "reason": SHARED_REASON} for k in shared])


SHARED_REASON = (
    "shared with work outside your scopes; only a caller whose scopes cover all of it may restart it"
)


def _restartable(
    index: Index, claims: TokenClaims, network: str | None, keys: list[str] | None
) -> tuple[list[str] | None, list[str]]:
    """The keys to restart (None: every errored task of ``network``) and the errored tasks of
    ``network`` left alone because work outside the caller's scopes also holds them."""
    if network is None or keys:
        return keys, []
    errored = [str(d["_id"]) for d in index.tasks.of_network(network, TaskStatus.ERROR)]
    shared = not_covered(index, claims, index.tasks.docs(errored))
    return (None if not shared else [k for k in errored if k not in shared]), sorted(shared)


@router.post(
    "/extend",
    summary="Ask for more iterations of tasks (complete ones run again)",
    response_model=TaskChanges,
    responses=idempotency.RESPONSES,
)
def extend(
    body: ExtendRequest,
    request: Request,
    claims: ClaimsDep,
    index: IndexDep,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> Any:
    keys = task_refs(index, claims, body.tasks)
    changeable_task_docs(index, claims, keys)

    def work() -> TaskChanges:
        changed, skipped = [], []
        for key in keys:
            try:
                index.tasks.mark_extend(key, body.iterations)
                changed.append(key)
            except InvalidTransition as exc:
                skipped.append({"task": key, "reason": str(exc)})
        return TaskChanges(changed=changed, skipped=skipped)

    return idempotency.once(request, index, claims, idempotency_key, body, work)

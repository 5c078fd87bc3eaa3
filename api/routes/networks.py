"""Networks: submit (a document or a planner body), list by scope, get, status, results, a relative
network's estimates, archive."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from api import idempotency
from api.allocation import check_allocation, opt_in_allocation
from api.cache import TTLCache
from api.deps import ApiSettingsDep, ClaimsDep, IndexDep, NetworkKey, ambiguous
from api.scoping import network_covered, network_doc, visible_scopes
from api.submission import concrete_scope, created_for_caller, plan_submission
from fepflow.analysis.network_estimates import NotRelative, relative_network_estimates
from fepflow.auth.scopes import scope_allows
from fepflow.hub.schemas import (
    NetworkPage,
    NetworkResults,
    NetworkStatus,
    NetworkSubmission,
    NetworkSummary,
    RepeatsRequest,
    SubmitResult,
    TaskChanges,
)
from fepflow.models.network_results import NetworkEstimates
from fepflow.models.serialization import to_dict
from fepflow.models.states import TERMINAL, TaskStatus
from fepflow.store.estimates import molecule_values, network_estimates, to_csv
from fepflow.store.lookup import TRANSFORMATION_TYPES, AmbiguousKey, prefix_regex, transformation_names
from fepflow.store.models import NotFound
from fepflow.store.network_estimates import estimate_inputs

router = APIRouter(prefix="/networks", tags=["networks"])


def _summary(doc: dict[str, Any], scopes: list[str]) -> NetworkSummary:
    return NetworkSummary(
        key=str(doc["_id"]),
        name=doc.get("name"),
        scopes=scopes,
        n_edges=doc.get("n_edges"),
        created_at=doc.get("created_at"),
    )


@router.post(
    "",
    summary="Submit a network (201 when new in this scope, 200 with the same keys when not)",
    response_model=SubmitResult,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": SubmitResult}, 403: {}, 413: {}, 422: {}},
)
def submit(
    body: NetworkSubmission, response: Response, claims: ClaimsDep, index: IndexDep, limits: ApiSettingsDep
) -> SubmitResult:
    scope = concrete_scope(body.scope)
    if not scope_allows(claims.scopes, scope):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"you may not submit to scope {scope!r}; your scopes: {', '.join(claims.scopes)}",
        )
    submission = plan_submission(body, limits)
    network = submission.network
    check_allocation(network, body.allocation)
    before = index.networks.scopes_of(network.key)
    seen_before = before is not None and bool(visible_scopes(claims, before))
    report = index.submit_network(network, scope=scope, priority=body.priority, repeats=body.repeats)
    if submission.experimental:
        index.networks.set_experimental(network.key, submission.experimental, scope=scope)
    opt_in_allocation(index, network.key, body.allocation)
    new_here = before is None or scope not in before
    response.status_code = status.HTTP_201_CREATED if new_here else status.HTTP_200_OK
    return SubmitResult(
        network=network.key,
        name=network.name,
        scope=scope,
        created=new_here,
        transformations=[e.key for e in network.edges],
        tasks=report.task_keys,
        created_documents=created_for_caller(index, claims, network, report, seen_before),
        plan=submission.plan,
    )


@router.get("", summary="Networks in the caller's scopes, oldest key first", response_model=NetworkPage)
def list_networks(
    claims: ClaimsDep,
    index: IndexDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=200)] = None,
    scope: Annotated[str | None, Query(max_length=200, description="only this (concrete) scope")] = None,
) -> NetworkPage:
    granted = list(claims.scopes)
    if scope is not None:
        granted = [scope] if scope_allows(claims.scopes, scope) else []
    page = index.networks.page(granted=granted, limit=limit, after=after)
    items = []
    for doc in page.items:
        scopes = [s for s in visible_scopes(claims, doc.get("scopes", [])) if scope is None or s == scope]
        if scopes:
            items.append(_summary(doc, scopes))
    return NetworkPage(items=items, next_after=page.next_after)


@router.get("/{key}", summary="One network's summary", response_model=NetworkSummary)
def get_network(key: NetworkKey, claims: ClaimsDep, index: IndexDep) -> NetworkSummary:
    doc = network_doc(index, claims, key)
    return _summary(doc, visible_scopes(claims, doc.get("scopes", [])))


@router.get("/{key}/document", summary="The network as a fepflow/1 document")
def get_document(key: NetworkKey, claims: ClaimsDep, index: IndexDep) -> dict[str, Any]:
    network_doc(index, claims, key)
    return to_dict(index.models.network(key))


async def _cached(cache: TTLCache, key: str, compute: Callable[[], Any], **kw: Any) -> Any:
    """A cached value straight from the event loop: a fresh one as is, a stale one while a single
    background refresh runs; only a missing one is waited for (computed in the thread pool)."""
    state, value = cache.peek(key)
    if state == "fresh":
        return value
    if state == "stale":
        if cache.claim_refresh(key):
            task = asyncio.get_running_loop().create_task(
                run_in_threadpool(partial(cache.refresh, key, compute, **kw))
            )
            _REFRESHES.add(task)
            task.add_done_callback(_REFRESHES.discard)
        return value
    return await run_in_threadpool(partial(cache.get, key, compute, **kw))


_REFRESHES: set[asyncio.Task[Any]] = set()  # keeps background refreshes referenced until they end


@router.get("/{key}/status", summary="Tasks per state", response_model=NetworkStatus)
async def network_status(
    key: NetworkKey, request: Request, claims: ClaimsDep, index: IndexDep
) -> NetworkStatus:
    cache: TTLCache = request.app.state.status_cache
    scopes = await _cached(
        cache, f"scopes/{key}", lambda: index.networks.scopes_of(key), keep=lambda s: s is not None
    )
    if scopes is None or not visible_scopes(claims, scopes):
        raise NotFound(f"network {key} not found")
    counts = await _cached(cache, f"counts/{key}", lambda: index.tasks.counts(key))
    total = sum(counts.values())
    finished = sum(n for s, n in counts.items() if TaskStatus(s) in TERMINAL)
    return NetworkStatus(
        network=key, counts=counts, total=total, finished_fraction=finished / total if total else 0.0
    )


@router.get(
    "/{key}/results",
    summary="Per-transformation estimates (and per-molecule values for absolute protocols)",
    response_model=NetworkResults,
    responses={200: {"content": {"text/csv": {}}}},
)
def network_results(
    key: NetworkKey,
    claims: ClaimsDep,
    index: IndexDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    network_doc(index, claims, key)
    rows = network_estimates(index, key)
    if format == "csv":
        return PlainTextResponse(to_csv(rows), media_type="text/csv")
    return NetworkResults(
        network=key,
        transformations=rows,
        molecules=molecule_values(rows),
    )


@router.get(
    "/{key}/estimates",
    summary="A relative network's ΔΔG per edge, ΔG per ligand, cycle closures and statistics vs experiment",
    response_model=NetworkEstimates,
    responses={404: {}, 409: {"description": "the network is not relative (see /results)"}},
)
def network_estimates_of(key: NetworkKey, claims: ClaimsDep, index: IndexDep) -> NetworkEstimates:
    doc = network_doc(index, claims, key)
    scopes = visible_scopes(claims, doc.get("scopes", []))
    try:
        return relative_network_estimates(*estimate_inputs(index, key, scopes))
    except NotRelative as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.get("/{key}/archive", summary="One manifest of everything the network produced")
def archive(key: NetworkKey, claims: ClaimsDep, index: IndexDep) -> dict[str, Any]:
    doc = network_doc(index, claims, key)
    names = transformation_names(index.transformations.coll, key)
    tasks = []
    for t in index.tasks.of_network(key):
        result = t.get("result") or {}
        tasks.append(
            {
                "task": str(t["_id"]),
                "transformation": t["transformation"],
                "transformation_name": names.get(t["transformation"]),
                "repeat": t["repeat"],
                "status": t["status"],
                "result": result.get("result_key") if t["status"] == TaskStatus.COMPLETE.value else None,
                "bundle_sha256": result.get("bundle_sha256")
                if t["status"] == TaskStatus.COMPLETE.value
                else None,
                "drs_id": result.get("drs_id") if t["status"] == TaskStatus.COMPLETE.value else None,
                "size_bytes": result.get("size_bytes") if t["status"] == TaskStatus.COMPLETE.value else None,
            }
        )
    return {
        "format": "fepflow-archive/1",
        "network": key,
        "name": doc.get("name"),
        "transformations": sorted({t["transformation"] for t in tasks}),
        "tasks": tasks,
        "drs_ids": [t["drs_id"] for t in tasks if t["drs_id"]],
        "total_bytes": sum(t["size_bytes"] or 0 for t in tasks),
    }


def _among(keys: set[str], ref: str) -> str:
    """The one of ``keys`` that ``ref`` (a key or unique key prefix) names; ``ref`` itself otherwise."""
    regex = prefix_regex(ref, TRANSFORMATION_TYPES)
    found = [k for k in keys if regex and re.match(regex, k)] if ref not in keys else [ref]
    if len(found) > 1:
        raise ambiguous(AmbiguousKey("transformation", ref, [(k, None) for k in sorted(found)]))
    return found[0] if found else ref


@router.post(
    "/{key}/repeats",
    summary="Add repeats to the network's transformations",
    response_model=TaskChanges,
    responses=idempotency.RESPONSES,
)
def add_repeats(
    key: NetworkKey,
    body: RepeatsRequest,
    request: Request,
    claims: ClaimsDep,
    index: IndexDep,
    idempotency_key: idempotency.IdempotencyKey = None,
) -> Any:
    network_covered(claims, network_doc(index, claims, key))
    mine = set(index.transformations.of_network(key))
    given = body.transformations
    wanted = [_among(mine, t) for t in given] if given is not None else sorted(mine)
    outside = [t for t in wanted if t not in mine]
    if outside:
        raise NotFound(f"transformation {outside[0]} is not part of network {key}")
    return idempotency.once(
        request,
        index,
        claims,
        idempotency_key,
        body,
        lambda: TaskChanges(changed=index.tasks.add_repeats(wanted, body.count, network_key=key)),
    )

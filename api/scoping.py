"""Scope checks: an object outside the caller's scopes is reported exactly like a missing one (404).

A change to a task (priority, cancel, extend, restart) or to a network (repeats) needs more: the
caller's scopes must cover every owner of it (403 otherwise, naming no other scope or network).

The policy lives here; what is stored (which scopes a network has, which networks a transformation,
task or DRS object belongs to) is asked of the stores.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status

from fepflow.auth.scopes import scope_allows
from fepflow.auth.tokens import TokenClaims
from fepflow.models.states import TaskStatus
from fepflow.store.index import Index
from fepflow.store.models import NotFound


def visible_scopes(claims: TokenClaims, scopes: list[str]) -> list[str]:
    return [s for s in scopes if scope_allows(claims.scopes, s)]


def visible_networks(index: Index, claims: TokenClaims, keys: list[str]) -> set[str]:
    """Those of ``keys`` that are networks the caller may see."""
    return {
        key for key, scopes in index.networks.scopes_by_key(keys).items() if visible_scopes(claims, scopes)
    }


def network_doc(index: Index, claims: TokenClaims, key: str) -> dict[str, Any]:
    doc = index.networks.summary(key)
    if doc is None or not visible_scopes(claims, doc.get("scopes", [])):
        raise NotFound(f"network {key} not found")
    return doc


def transformation_doc(index: Index, claims: TokenClaims, key: str) -> dict[str, Any]:
    doc = index.transformations.summary(key)
    if doc is None or not visible_networks(index, claims, doc.get("networks", [])):
        raise NotFound(f"transformation {key} not found")
    return doc


def task_docs(index: Index, claims: TokenClaims, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Every task of ``keys``; NotFound naming the first one that is missing or out of scope."""
    docs = index.tasks.docs(keys)
    networks = visible_networks(index, claims, [n for d in docs.values() for n in d.get("networks", [])])
    for key in keys:
        doc = docs.get(key)
        if doc is None or not networks.intersection(doc.get("networks", [])):
            raise NotFound(f"task {key} not found")
    return docs


def visible_drs_objects(index: Index, claims: TokenClaims, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The DRS documents of ``ids`` the caller may see (others are left out, as if missing): an
    object's scopes are those of its transformation's networks."""
    docs = index.results.drs_objects(ids)
    transformations = {d.get("transformation") for d in docs.values() if d.get("transformation")}
    nets_of = index.transformations.networks_by_key(sorted(str(t) for t in transformations))
    seen = visible_networks(index, claims, [n for nets in nets_of.values() for n in nets])
    return {i: d for i, d in docs.items() if seen.intersection(nets_of.get(d.get("transformation", ""), []))}


def visible_results(index: Index, claims: TokenClaims, docs: list[dict[str, Any]]) -> set[str]:
    """The keys of those of result documents ``docs`` (with their task and transformation) the
    caller may see: each the result its task completed with, of a transformation of a network in the
    caller's scopes (as ``GET /results/{key}`` checks one)."""
    tasks = index.tasks.docs(sorted({str(d["task"]) for d in docs if d.get("task")}))
    owned = [
        d
        for d in docs
        if (t := tasks.get(str(d.get("task")))) is not None
        and t.get("status") == TaskStatus.COMPLETE.value
        and (t.get("result") or {}).get("result_key") == str(d["_id"])
    ]
    nets_of = index.transformations.networks_by_key(sorted({str(d.get("transformation")) for d in owned}))
    seen = visible_networks(index, claims, sorted({n for nets in nets_of.values() for n in nets}))
    return {str(d["_id"]) for d in owned if seen.intersection(nets_of.get(str(d.get("transformation")), []))}


def not_covered(index: Index, claims: TokenClaims, docs: dict[str, dict[str, Any]]) -> list[str]:
    """Those of the tasks ``docs`` that some owner outside the caller's scopes also holds: a task
    belongs to every network holding it, and each network to all of its scopes. Task keys are
    content hashes, so two scopes that submit the same chemistry share the task; only a caller whose
    scopes cover every one of them may change it."""
    scopes = index.networks.scopes_by_key(sorted({n for d in docs.values() for n in d.get("networks", [])}))

    def covered(doc: dict[str, Any]) -> bool:
        nets = doc.get("networks", [])
        return bool(nets) and all(
            n in scopes and all(scope_allows(claims.scopes, s) for s in scopes[n]) for n in nets
        )

    return [key for key, doc in docs.items() if not covered(doc)]


def changeable_task_docs(index: Index, claims: TokenClaims, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Every task of ``keys``, when the caller may change each one: NotFound (404) for one missing or
    out of scope, 403 for one that work outside the caller's scopes also holds (neither names it)."""
    docs = task_docs(index, claims, keys)
    shared = not_covered(index, claims, {k: docs[k] for k in keys})
    if shared:
        raise HTTPException(status.HTTP_403_FORBIDDEN, SHARED_TASK.format(task=shared[0]))
    return docs


def network_covered(claims: TokenClaims, doc: dict[str, Any]) -> None:
    """403 unless the caller's scopes cover every scope network ``doc`` (visible to it) belongs to."""
    if not all(scope_allows(claims.scopes, s) for s in doc.get("scopes", [])):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"network {doc['_id']} is shared with work outside your scopes; only a caller whose scopes "
            "cover all of it may change it",
        )


SHARED_TASK = (
    "task {task} is shared with work outside your scopes (the same chemistry submitted elsewhere); "
    "only a caller whose scopes cover all of it may change it"
)

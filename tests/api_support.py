"""Helpers for the hub's tests: tokens, users, submissions, completed tasks (fixtures: api_fixtures)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from fepflow.auth.tokens import encode_token
from fepflow.models.results import TaskSummary
from fepflow.models.states import TaskStatus
from fepflow.store import drs
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_on_loopback(make_app: Callable[[str], Any]) -> Iterator[str]:
    """The app ``make_app(base_url)`` returns, served by uvicorn in a thread on a free loopback port,
    as a client or a browser reaches it: yields its base URL, stops it on exit."""
    import uvicorn

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(make_app(base), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the hub did not start"
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


SECRET = "test-secret-" + "x" * 40
SCOPE = "acme-kinases-p1"
OTHER_SCOPE = "rival-gpcr-p9"


def bearer(
    scopes: list[str], subject: str = "alice", ttl: timedelta = timedelta(hours=12), **kw: Any
) -> dict[str, str]:
    """Authorization headers. Modules make theirs at collection, minutes before a slow suite reaches
    them: the default lifetime outlasts any run (expiry is tested with an explicit ``ttl``)."""
    token, _ = encode_token(subject, scopes, secret=SECRET, ttl=ttl, **kw)
    return {"Authorization": f"Bearer {token}"}


# The identities the tokens of `bearer` name: the hub checks on every request that a token's identity
# still exists and is enabled, so the hub's index (fixture `hub_index`) holds these. Their stored
# scopes cover everything; a token's own scopes are what a request may reach.
TEST_IDENTITIES = ("alice", "mallory")


def add_test_identities(index: Index) -> None:
    for name in TEST_IDENTITIES:
        index.identities.add(name, f"{name}-test-secret", ["*-*-*"], replace=True)


def add_user(index: Index, name: str, secret: str, scopes: list[str]) -> None:
    index.identities.add(name, secret, scopes, replace=True)


def submit_smiles(client: TestClient, names: dict[str, str], scope: str = SCOPE, **extra: Any) -> Any:
    body = {"scope": scope, "ligands": [{"name": n, "smiles": s} for n, s in names.items()], **extra}
    return client.post("/api/v1/networks", json=body, headers=bearer([scope]))


def complete_task(
    index: Index,
    objects: ObjectStore,
    task_key: str,
    *,
    dg: float = 0.0,
    error: float = 0.0,
    ligand: str | None = None,
    stored_summary: dict[str, Any] | None = None,
    files: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    """Run a task through its states and record a real bundle (a summary file and the manifest),
    with the DRS documents the orchestrator publishes (``fepflow.store.drs``). The summary is a
    current one with value ``dg`` and MBAR error ``error``, or ``stored_summary`` as given (e.g. one
    an earlier version of fepflow wrote); ``files``: more bundle members (name -> bytes), e.g. plots."""
    index.tasks.transition(task_key, TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
    task = index.tasks.start(task_key)
    summary = (
        stored_summary
        or TaskSummary(
            protocol="absolute-hydration",
            transformation=task.transformation_key,
            repeat=task.repeat,
            quantity="ΔG_hyd",
            dg_kcal_mol=dg,
            dg_mbar_error_kcal_mol=error,
            ligand=ligand,
        ).to_stored()
    )
    summary_bytes = json.dumps(summary).encode()
    where = {"task_key": task_key, "transformation_key": task.transformation_key}
    stored = {name: objects.put_bytes(data) for name, data in (files or {}).items()}
    blobs = drs.blob_documents({"summary.json": objects.put_bytes(summary_bytes), **stored}, **where)
    manifest = objects.put_bytes(drs.manifest_bytes(blobs, **where))
    bundle = drs.bundle_document(blobs, manifest, name=f"bundle of {task_key}", **where)
    ref = index.results.record(
        task_key,
        run_id=task.run_id,
        attempt=task.attempts,
        bundle_sha256=manifest.sha256,
        size_bytes=bundle["size"],
        summary=summary,
        drs_objects=[*blobs, bundle],
        bundle_drs_id=bundle["id"],
    )
    for doc in [*blobs, bundle]:
        index.results.drs.update_one({"_id": doc["id"]}, {"$set": {"result": ref.result_key}})
    summary_blob = next(b for b in blobs if b["name"] == "summary.json")
    return {
        "blob": summary_blob,
        "blobs": blobs,
        "bundle": bundle,
        "result": ref.result_key,
        "summary_bytes": summary_bytes,
    }

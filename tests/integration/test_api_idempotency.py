"""Retried POSTs do the work once (issue 14, item 13): the client sends an Idempotency-Key per call and
reuses it on retries; the hub answers a key it has seen with the first answer, without doing it again."""

from __future__ import annotations

import time

import httpx
import pytest
from api_support import SCOPE, bearer, submit_smiles
from fastapi.testclient import TestClient

from fepflow.hub.client import Client
from fepflow.hub.schemas import RepeatsRequest
from fepflow.store.idempotency import IdempotencyStore
from fepflow.store.index import Index

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]

ALICE = bearer([SCOPE], subject="alice")


class LoseFirstAnswer(httpx.BaseTransport):
    """Passes requests to the hub, but drops the connection after the hub has answered the first
    POST to ``path``: the work is done and the client never hears of it."""

    def __init__(self, inner: httpx.BaseTransport, path: str) -> None:
        self.inner, self.path, self.lost = inner, path, 0
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path == self.path:
            self.keys.append(request.headers.get("idempotency-key"))
            if not self.lost:
                self.lost += 1
                response.read()
                raise httpx.ReadError("connection reset after the hub answered")
        return response


def _client(hub: TestClient, path: str) -> tuple[Client, LoseFirstAnswer]:
    transport = LoseFirstAnswer(hub._transport, path)
    http = httpx.Client(base_url="http://testserver", transport=transport)
    token = ALICE["Authorization"].removeprefix("Bearer ")
    return Client("http://testserver", http=http, token=token, sleep=lambda s: None), transport


def test_a_retried_extend_after_a_lost_answer_extends_once(hub: TestClient, hub_index: Index) -> None:
    task = submit_smiles(hub, {"methanol": "CO"}).json()["tasks"][0]
    client, transport = _client(hub, "/api/v1/tasks/extend")
    assert client.extend([task], 5).changed == [task]
    assert transport.lost == 1 and len(transport.keys) == 2  # the call was sent twice
    assert transport.keys[0] and transport.keys[0] == transport.keys[1]  # with one key
    assert hub_index.tasks.extend_iterations(task) == 5  # not 10
    client.extend([task], 5)  # a new call is new work
    assert hub_index.tasks.extend_iterations(task) == 10


def test_a_retried_repeats_request_after_a_lost_answer_adds_one_set(
    hub: TestClient, hub_index: Index
) -> None:
    sub = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}).json()
    before = len(hub_index.tasks.page(network=sub["network"], limit=1000).items)
    client, transport = _client(hub, f"/api/v1/networks/{sub['network']}/repeats")
    added = client.add_repeats(sub["network"], 2).changed
    assert transport.lost == 1 and len(transport.keys) == 2
    assert len(added) == 2 * len(sub["transformations"])
    after = hub_index.tasks.page(network=sub["network"], limit=1000).items
    assert len(after) == before + len(added)  # one set of repeats, not two


def test_the_same_key_answers_the_first_answer_again(hub: TestClient, hub_index: Index) -> None:
    sub = submit_smiles(hub, {"methanol": "CO"}).json()
    path = f"/api/v1/networks/{sub['network']}/repeats"
    before = len(hub_index.tasks.page(network=sub["network"], limit=1000).items)
    key = {"Idempotency-Key": "repeats-7f3a"}
    first = hub.post(path, json={"count": 1}, headers={**ALICE, **key})
    again = hub.post(path, json={"count": 1}, headers={**ALICE, **key})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    other = hub.post(path, json={"count": 3}, headers={**ALICE, **key})  # the key of another request
    assert other.status_code == 422 and "Idempotency-Key" in other.text
    mallory = hub.post(path, json={"count": 1}, headers={**bearer([SCOPE], subject="mallory"), **key})
    assert mallory.status_code == 200 and mallory.json() != first.json()  # keys are per caller
    plain = hub.post(path, json={"count": 1}, headers=ALICE)  # no key: every call is new work
    assert plain.status_code == 200 and plain.json() != first.json()
    tasks = hub_index.tasks.page(network=sub["network"], limit=1000).items
    assert len(tasks) == before + 3  # alice's one, mallory's and the plain one
    bad = hub.post(path, json={"count": 1}, headers={**ALICE, "Idempotency-Key": "x" * 300})
    assert bad.status_code == 422


def test_a_key_still_being_worked_on_answers_409_with_retry_after(hub: TestClient, hub_index: Index) -> None:
    sub = submit_smiles(hub, {"methanol": "CO"}).json()
    path = f"/api/v1/networks/{sub['network']}/repeats"
    store = hub_index.idempotency
    fingerprint = store.fingerprint("POST", path, RepeatsRequest(count=1).model_dump_json())
    assert store.begin("alice", "busy-1", fingerprint) is None  # the first try, still working
    busy = hub.post(path, json={"count": 1}, headers={**ALICE, "Idempotency-Key": "busy-1"})
    assert busy.status_code == 409 and busy.headers["retry-after"] == "1"
    store.abandon("alice", "busy-1")  # the first try failed before doing anything: the key is free
    assert (
        hub.post(path, json={"count": 1}, headers={**ALICE, "Idempotency-Key": "busy-1"}).status_code == 200
    )
    stale = IdempotencyStore(store.coll, pending_s=0)
    assert stale.begin("alice", "died-1", fingerprint) is None
    time.sleep(0.01)
    assert stale.begin("alice", "died-1", fingerprint) is None  # its process died: taken over

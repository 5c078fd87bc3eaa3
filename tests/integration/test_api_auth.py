"""Hub auth: the OAuth2 password flow, token failures (401), and scopes (404 across them)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from api_support import OTHER_SCOPE, SCOPE, SECRET, add_user, bearer, complete_task, submit_smiles
from fastapi.testclient import TestClient

from fepflow.store.identities import IdentityExists
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]


def _login(hub: TestClient, user: str, secret: str) -> object:
    return hub.post("/api/v1/auth/token", data={"username": user, "password": secret})


def test_password_flow_gives_a_working_token(hub: TestClient, hub_index: Index) -> None:
    add_user(hub_index, "alice", "correct horse battery", ["acme-*-*"])
    r = _login(hub, "alice", "correct horse battery")
    assert r.status_code == 200, r.text
    token = r.json()
    assert (
        token["token_type"] == "bearer" and token["expires_in"] == 5 * 60 and token["scopes"] == ["acme-*-*"]
    )
    h = {"Authorization": f"Bearer {token['access_token']}"}
    assert hub.get("/api/v1/auth/whoami", headers=h).json()["identity"] == "alice"
    assert submit_smiles(hub, {"m": "C"}).status_code == 201
    assert len(hub.get("/api/v1/networks", headers=h).json()["items"]) == 1
    fresh = hub.post("/api/v1/auth/refresh", headers=h)
    assert fresh.status_code == 200 and fresh.json()["access_token"] != token["access_token"]
    stored = hub_index.db["identities"].find_one({"_id": "alice"})
    assert stored["secret_hash"].startswith("$argon2id$") and "correct horse" not in str(stored)


def test_wrong_secret_and_unknown_user_are_the_same_401(hub: TestClient, hub_index: Index) -> None:
    add_user(hub_index, "bob", "s3cret-enough", [SCOPE])
    wrong = _login(hub, "bob", "nope")
    unknown = _login(hub, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


@pytest.mark.parametrize("case", ["missing", "expired", "tampered", "wrong-key", "garbage"])
def test_bad_tokens_are_401(hub: TestClient, case: str) -> None:
    if case == "missing":
        headers = {}
    elif case == "expired":
        headers = bearer([SCOPE], ttl=timedelta(seconds=-5))
    elif case == "tampered":
        token = bearer([SCOPE])["Authorization"].split()[1]
        head, _payload, sig = token.split(".")
        forged = jwt.encode(
            {**jwt.decode(token, options={"verify_signature": False}), "scopes": ["*-*-*"]}, "y" * 40
        )
        headers = {"Authorization": f"Bearer {head}.{forged.split('.')[1]}.{sig}"}
    elif case == "wrong-key":
        headers = {
            "Authorization": "Bearer "
            + jwt.encode(
                {
                    "sub": "eve",
                    "scopes": [SCOPE],
                    "iss": "fepflow",
                    "iat": 0,
                    "exp": 2**31,
                    "purpose": "access",
                },
                "not-" + SECRET,
            )
        }
    else:
        headers = {"Authorization": "Bearer not.a.token"}
    for method, path in [
        ("get", "/api/v1/networks"),
        ("post", "/api/v1/networks"),
        ("get", "/api/v1/tasks?network=x"),
        ("post", "/api/v1/auth/refresh"),
    ]:
        r = getattr(hub, method)(
            path, headers=headers, **({"json": {}} if method == "post" and "networks" in path else {})
        )
        assert r.status_code == 401, (case, path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
    if case == "expired":
        assert "expired" in hub.get("/api/v1/networks", headers=headers).json()["detail"]


def test_objects_of_another_scope_are_404_like_missing_ones(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    sub = submit_smiles(hub, {"methanol": "CO"}).json()
    net, task = sub["network"], sub["tasks"][0]
    made = complete_task(hub_index, hub_objects, task, dg=-5.0, error=0.2, ligand="methanol")
    t = sub["transformations"][0]
    mine, theirs = bearer([SCOPE]), bearer([OTHER_SCOPE], subject="mallory")
    paths = [
        f"/api/v1/networks/{net}",
        f"/api/v1/networks/{net}/status",
        f"/api/v1/networks/{net}/results",
        f"/api/v1/networks/{net}/document",
        f"/api/v1/networks/{net}/archive",
        f"/api/v1/transformations/{t}/results",
        f"/api/v1/results/{made['result']}",
        f"/api/v1/tasks/{task}",
    ]
    for path in paths:
        assert hub.get(path, headers=mine).status_code == 200, path
        r = hub.get(path, headers=theirs)
        assert r.status_code == 404, path
        missing_path = path.replace(net, "AlchemicalNetwork-0").replace(t, "Transformation-0")
        missing_path = missing_path.replace(made["result"], "Result-0").replace(task, "Task-0")
        gone = hub.get(missing_path, headers=mine)
        assert gone.status_code == 404 and set(gone.json()) == set(r.json()) == {"detail"}
    assert hub.get("/api/v1/networks", headers=theirs).json()["items"] == []
    # the same transformation in a network of theirs: they see the task, not our network
    body = {"scope": OTHER_SCOPE, "ligands": [{"name": "methanol", "smiles": "CO"}], "name": "theirs"}
    their_net = hub.post("/api/v1/networks", json=body, headers=theirs).json()["network"]
    assert hub.get(f"/api/v1/tasks/{task}", headers=theirs).json()["networks"] == [their_net]
    listed = hub.get("/api/v1/tasks", params={"network": their_net}, headers=theirs).json()["items"]
    assert task in [t["key"] for t in listed] and all(t["networks"] == [their_net] for t in listed)
    assert sorted(
        hub.get(f"/api/v1/tasks/{task}", headers=bearer([SCOPE, OTHER_SCOPE])).json()["networks"]
    ) == sorted([net, their_net])
    # a wildcard grant covers the campaign; a neighbouring org does not
    assert hub.get(f"/api/v1/networks/{net}", headers=bearer(["acme-kinases-*"])).status_code == 200
    assert hub.get(f"/api/v1/networks/{net}", headers=bearer(["acmex-*-*"])).status_code == 404


def test_submitting_outside_ones_scopes_is_refused(hub: TestClient) -> None:
    r = hub.post("/api/v1/networks", json={"scope": OTHER_SCOPE, "ligands": ["C"]}, headers=bearer([SCOPE]))
    assert r.status_code == 403 and OTHER_SCOPE in r.json()["detail"]
    r = hub.post(
        "/api/v1/networks", json={"scope": "acme-*-*", "ligands": ["C"]}, headers=bearer(["acme-*-*"])
    )
    assert r.status_code == 422  # objects are filed under concrete scopes only


def test_a_disabled_identity_can_neither_log_in_nor_refresh(hub: TestClient, hub_index: Index) -> None:
    add_user(hub_index, "erin", "erins long secret", [SCOPE])
    token = _login(hub, "erin", "erins long secret").json()["access_token"]
    store = hub_index.identities
    with pytest.raises(IdentityExists):
        store.add("erin", "other secret", [SCOPE])
    store.disable("erin")
    assert _login(hub, "erin", "erins long secret").status_code == 401
    assert hub.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    store.add("erin", "a new long secret", [OTHER_SCOPE], replace=True)
    fresh = _login(hub, "erin", "a new long secret").json()
    assert fresh["scopes"] == [OTHER_SCOPE]
    assert _login(hub, "erin", "erins long secret").status_code == 401

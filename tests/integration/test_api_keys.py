"""Keys and identities (issue 14, items 2, 4, 5): a linear-time traceback pattern, revocable tokens
and links, a capped refresh chain, and logins that are rate-limited and bounded in memory."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import jwt
import pytest
from api_support import SCOPE, SECRET, add_user, complete_task, submit_smiles
from fastapi.testclient import TestClient
from pydantic import SecretStr

from fepflow.auth.tokens import encode_token
from fepflow.models.states import TaskStatus
from fepflow.settings import AuthSettings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]


@pytest.fixture()
def auth_config() -> AuthSettings:
    """No identity cache (a revocation is seen at once) and small login limits."""
    return AuthSettings(
        secret_key=SecretStr(SECRET),
        token_ttl_min=5,
        identity_cache_s=0,
        login_per_client_per_min=6,
        login_per_identity_per_min=3,
        login_concurrency=1,
        login_wait_s=0.3,
    )


def _login(hub: TestClient, user: str, secret: str) -> object:
    return hub.post("/api/v1/auth/token", data={"username": user, "password": secret})


def _token(hub: TestClient, hub_index: Index, user: str = "dana") -> dict[str, str]:
    add_user(hub_index, user, f"{user}'s long secret", [SCOPE])
    r = _login(hub, user, f"{user}'s long secret")
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# -- item 2: the traceback pattern ----------------------------------------------------------------


def _errored(hub: TestClient, hub_index: Index, headers: dict[str, str], tracebacks: list[str]) -> str:
    names = {f"m{i}": "C" * (i + 1) for i in range(len(tracebacks))}
    net = submit_smiles(hub, names).json()["network"]
    tasks = hub.get("/api/v1/tasks", params={"network": net}, headers=headers).json()["items"]
    for task, text in zip(tasks, tracebacks, strict=False):
        hub_index.tasks.transition(task["key"], TaskStatus.SCHEDULED, expected=TaskStatus.WAITING)
        run = hub_index.tasks.start(task["key"])
        hub_index.tasks.fail(task["key"], "failed", traceback=text, run_id=run.run_id)
    return net


def test_a_pathological_traceback_pattern_finishes_fast(hub: TestClient, hub_index: Index) -> None:
    h = _token(hub, hub_index)
    # Python's backtracking `re` takes seconds on this one line, and twice as long per added character
    net = _errored(hub, hub_index, h, ["a" * 25, "x" * 200_000 + "Z"])
    started = time.monotonic()
    r = hub.post("/api/v1/tasks/restart", json={"network": net, "traceback_pattern": "(.|.)*Z"}, headers=h)
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert len(r.json()["changed"]) == 1  # only the traceback with a Z
    assert elapsed < 2.0, f"the pattern took {elapsed:.1f} s"


def test_a_pattern_the_linear_matcher_cannot_run_is_422(hub: TestClient, hub_index: Index) -> None:
    h = _token(hub, hub_index)
    net = _errored(hub, hub_index, h, ["ValueError: aa"])
    r = hub.post("/api/v1/tasks/restart", json={"network": net, "traceback_pattern": r"(a)\1"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "traceback_pattern"]
    assert "backreference" in r.json()["detail"][0]["msg"]


# -- item 4: tokens and links that can be revoked -------------------------------------------------


@pytest.mark.parametrize("how", ["disabled", "deleted"])
def test_an_access_token_dies_with_its_identity(hub: TestClient, hub_index: Index, how: str) -> None:
    h = _token(hub, hub_index)
    assert hub.get("/api/v1/networks", headers=h).status_code == 200
    if how == "disabled":
        hub_index.identities.disable("dana")
    else:
        hub_index.db["identities"].delete_one({"_id": "dana"})
    r = hub.get("/api/v1/networks", headers=h)
    assert r.status_code == 401 and "dana" in r.json()["detail"], r.text
    assert hub.get("/api/v1/auth/whoami", headers=h).status_code == 401


def _old_login_token(hours: float) -> dict[str, str]:
    login = datetime.now(UTC) - timedelta(hours=hours)
    token, _ = encode_token(
        "dana", [SCOPE], secret=SECRET, ttl=timedelta(minutes=5), extra={"auth_time": int(login.timestamp())}
    )
    return {"Authorization": f"Bearer {token}"}


def test_refresh_keeps_the_login_time_and_stops_at_the_session_limit(
    hub: TestClient, hub_index: Index
) -> None:
    h = _token(hub, hub_index)
    first = jwt.decode(h["Authorization"].split()[1], options={"verify_signature": False})
    fresh = hub.post("/api/v1/auth/refresh", headers=h)
    assert fresh.status_code == 200, fresh.text
    again = jwt.decode(fresh.json()["access_token"], options={"verify_signature": False})
    assert again["auth_time"] == first["auth_time"]
    assert hub.post("/api/v1/auth/refresh", headers=_old_login_token(23.99)).status_code == 200
    # a refreshed token never outlives the session: 1 min left of 24 h, not the 5 min ttl
    capped = hub.post("/api/v1/auth/refresh", headers=_old_login_token(24 - 1 / 60)).json()
    assert capped["expires_in"] <= 61
    late = hub.post("/api/v1/auth/refresh", headers=_old_login_token(24.01))
    assert late.status_code == 401 and "log in again" in late.json()["detail"]


def test_page_links_are_short_and_check_the_identity(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    h = _token(hub, hub_index)
    sub = submit_smiles(hub, {"methanol": "CO"}).json()
    complete_task(hub_index, hub_objects, sub["tasks"][0], dg=-5.1, error=0.2, ligand="methanol")
    link = hub.get(f"/api/v1/networks/{sub['network']}/page-link", headers=h).json()
    lifetime = datetime.fromisoformat(link["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)
    url = urlsplit(link["url"])
    page = hub.get(f"{url.path}?{url.query}")
    assert page.status_code == 200
    stream = re.findall(r"/ga4gh/drs/v1/stream/[^\"'<]+", page.text)[0].replace("&amp;", "&")
    assert hub.get(stream).status_code == 200
    hub_index.identities.disable("dana")
    refused = hub.get(f"{url.path}?{url.query}")
    assert refused.status_code == 401 and "dana" in refused.json()["detail"]
    assert hub.get(stream).status_code == 401


def test_a_page_link_of_an_identity_that_lost_the_scope_is_refused(hub: TestClient, hub_index: Index) -> None:
    h = _token(hub, hub_index)
    net = submit_smiles(hub, {"methanol": "CO"}).json()["network"]
    url = urlsplit(hub.get(f"/api/v1/networks/{net}/page-link", headers=h).json()["url"])
    hub_index.identities.set_scopes("dana", ["other-scope-p1"])
    assert hub.get(f"{url.path}?{url.query}").status_code == 404


# -- item 5: logins --------------------------------------------------------------------------------


def test_logins_are_limited_per_identity(hub: TestClient, hub_index: Index) -> None:
    add_user(hub_index, "bob", "bobs long secret", [SCOPE])
    add_user(hub_index, "carol", "carols long secret", [SCOPE])
    assert [_login(hub, "bob", "wrong").status_code for _ in range(3)] == [401] * 3
    limited = _login(hub, "bob", "bobs long secret")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "bob" in limited.json()["detail"]
    assert _login(hub, "carol", "carols long secret").status_code == 200


def test_logins_are_limited_per_client(hub: TestClient, hub_index: Index) -> None:
    codes = [_login(hub, f"nobody{i}", "guess").status_code for i in range(7)]
    assert codes == [401] * 6 + [429]


def test_concurrent_secret_verifications_are_bounded(hub: TestClient, hub_index: Index) -> None:
    add_user(hub_index, "bob", "bobs long secret", [SCOPE])
    slots = hub.app.state.login_slots  # type: ignore[attr-defined]
    assert slots.acquire(timeout=1)  # every verification slot busy
    try:
        started = time.monotonic()
        busy = _login(hub, "bob", "bobs long secret")
        assert busy.status_code == 503 and "retry-after" in busy.headers
        assert time.monotonic() - started < 2
    finally:
        slots.release()
    assert _login(hub, "bob", "bobs long secret").status_code == 200


def test_argon2_memory_cost_is_stated() -> None:
    from fepflow.auth.passwords import ARGON2_MEMORY_KIB, hash_secret

    assert ARGON2_MEMORY_KIB == 19 * 1024
    assert hash_secret("a long secret").startswith(f"$argon2id$v=19$m={ARGON2_MEMORY_KIB},t=2,p=1$")

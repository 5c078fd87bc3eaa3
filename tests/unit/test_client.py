"""The hub client against a scripted transport: retries, token renewal, paging, verified downloads."""

from __future__ import annotations

import hashlib
import itertools
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fepflow.hub.client import ChecksumError, Client, HubError
from fepflow.hub.token_file import load_token

HUB = "http://hub.test"


def token_body(name: str = "alice", minutes: int = 60, value: str = "tok-1") -> dict[str, Any]:
    expires = datetime.now(UTC) + timedelta(minutes=minutes)
    return {
        "access_token": value,
        "token_type": "bearer",
        "expires_in": minutes * 60,
        "expires_at": expires.isoformat(),
        "identity": name,
        "scopes": ["a-b-c"],
    }


def make(handler: Any, **kw: Any) -> tuple[Client, list[float]]:
    slept: list[float] = []
    http = httpx.Client(base_url=HUB, transport=httpx.MockTransport(handler))
    return Client(HUB, http=http, sleep=slept.append, **kw), slept


def test_retries_502_503_504_and_connection_errors_with_growing_backoff() -> None:
    script: list[Any] = [503, 502, httpx.ConnectError("refused"), 504, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step, json={"status": "ok", "checks": {}})

    client, slept = make(handler, backoff_s=0.1)
    assert client.health()["status"] == "ok"
    assert script == [] and len(slept) == 4
    assert all(b > a for a, b in itertools.pairwise(slept))


def test_gives_up_after_the_retries_and_reports_the_status() -> None:
    client, slept = make(lambda r: httpx.Response(503, json={"detail": "busy"}), retries=2)
    with pytest.raises(HubError) as info:
        client.version()
    assert info.value.status_code == 503 and len(slept) == 2
    client, _ = make(lambda r: httpx.Response(500, json={"detail": "bug"}))
    with pytest.raises(HubError):  # a 500 is not retried
        client.version()


def test_422_details_name_the_field_and_molecule() -> None:
    detail = [{"loc": ["body", "ligands", 1], "msg": "RDKit cannot read", "molecule": "broken"}]
    client, _ = make(lambda r: httpx.Response(422, json={"detail": detail}), token="t")
    with pytest.raises(HubError, match=r"body\.ligands\.1: RDKit cannot read \(molecule broken\)"):
        client.submit_ligands(["C1CC("], scope="a-b-c")


def test_a_401_logs_in_again_with_remembered_credentials(tmp_path: Path) -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/auth/token":
            n = sum(1 for s in seen if s == "login")
            seen.append("login")
            return httpx.Response(200, json=token_body(value=f"tok-{n + 1}"))
        seen.append(request.headers.get("authorization"))
        if request.headers.get("authorization") == "Bearer tok-1":
            return httpx.Response(401, json={"detail": "the token has expired; log in again"})
        return httpx.Response(200, json={"identity": "alice", "scopes": [], "expires_at": "x"})

    token_file = tmp_path / "cfg" / "token.json"
    client, _ = make(handler, token_file=token_file)
    client.login("alice", "pw", remember=True)
    assert client.whoami()["identity"] == "alice"
    assert seen == ["login", "Bearer tok-1", "login", "Bearer tok-2"]
    saved = load_token(token_file)
    assert saved is not None and saved[0] == HUB and saved[1].access_token == "tok-2"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_a_token_about_to_expire_is_refreshed_first(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.url.path} {request.headers.get('authorization')}")
        if request.url.path == "/api/v1/auth/token":
            return httpx.Response(200, json=token_body(minutes=0, value="old"))
        if request.url.path == "/api/v1/auth/refresh":
            return httpx.Response(200, json=token_body(value="new"))
        return httpx.Response(200, json={"identity": "alice"})

    client, _ = make(handler)
    client.login("alice", "pw")
    client.whoami()
    assert calls[1:] == ["/api/v1/auth/refresh Bearer old", "/api/v1/auth/whoami Bearer new"]


def test_a_401_without_any_way_to_renew_is_reported() -> None:
    client, _ = make(lambda r: httpx.Response(401, json={"detail": "not authenticated"}))
    with pytest.raises(HubError) as info:
        client.whoami()
    assert info.value.status_code == 401


def test_paged_listing_follows_next_after() -> None:
    pages = {
        None: {"items": [{"key": "N1", "scopes": ["a-b-c"]}], "next_after": "N1"},
        "N1": {"items": [{"key": "N2", "scopes": ["a-b-c"]}], "next_after": None},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("after")])

    client, _ = make(handler, token="t")
    assert [n.key for n in client.networks()] == ["N1", "N2"]


def _drs_handler(payload: bytes, claimed: bytes, seen_auth: list[str | None]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ga4gh/drs/v1/objects/o1":
            return httpx.Response(
                200,
                json={
                    "id": "o1",
                    "name": "summary.json",
                    "self_uri": "drs://hub.test/o1",
                    "size": len(payload),
                    "created_time": "2026-01-01T00:00:00Z",
                    "checksums": [{"type": "sha-256", "checksum": hashlib.sha256(claimed).hexdigest()}],
                    "access_methods": [{"type": "s3", "access_id": "s3"}],
                },
            )
        if request.url.path == "/ga4gh/drs/v1/objects/o1/access/s3":
            return httpx.Response(200, json={"url": "https://bucket.s3.test/key?X-Amz-Signature=abc"})
        assert request.url.host == "bucket.s3.test"
        seen_auth.append(request.headers.get("authorization"))
        return httpx.Response(200, content=payload)

    return handler


def test_download_is_verified_and_sends_no_token_to_the_store(tmp_path: Path) -> None:
    data = json.dumps({"dg_kcal_mol": -1.0}).encode()
    seen: list[str | None] = []
    client, _ = make(_drs_handler(data, data, seen), token="secret-token")
    path = client.download("o1", tmp_path)
    assert path == tmp_path / "summary.json" and path.read_bytes() == data
    assert seen == [None]


def test_a_corrupt_download_raises_and_leaves_no_file(tmp_path: Path) -> None:
    seen: list[str | None] = []
    client, _ = make(_drs_handler(b"tampered", b"original", seen), token="t")
    with pytest.raises(ChecksumError, match="expected sha-256"):
        client.download("o1", tmp_path / "out.json")
    assert list(tmp_path.iterdir()) == []


def test_a_503_waits_as_long_as_retry_after_says_in_seconds_or_as_a_date() -> None:
    """Issue 14 item 9: the hub answers 503 + Retry-After while a store is down."""
    when = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    script = [("7", 503), (when, 503), (None, 200)]

    def handler(request: httpx.Request) -> httpx.Response:
        after, status = script.pop(0)
        headers = {"Retry-After": after} if after else {}
        return httpx.Response(status, json={"status": "ok", "checks": {}}, headers=headers)

    client, slept = make(handler, backoff_s=0.01)
    assert client.health()["status"] == "ok"
    assert 7 <= slept[0] < 8 and 25 <= slept[1] <= 31


def test_retries_stop_within_the_total_retry_time() -> None:
    """A long outage (or a Retry-After of an hour) ends in the 503 within ``retry_total_s``, not hours."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    slept: list[float] = []
    http = httpx.Client(
        base_url=HUB,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(
                503, json={"detail": "MongoDB is unavailable"}, headers={"Retry-After": "3600"}
            )
        ),
    )
    client = Client(HUB, http=http, sleep=sleep, clock=lambda: now[0], retries=50, retry_total_s=60)
    with pytest.raises(HubError) as info:
        client.version()
    assert info.value.status_code == 503 and "MongoDB" in str(info.value)
    assert sum(slept) <= 60

    slept.clear()
    now[0] = 0.0
    http = httpx.Client(
        base_url=HUB,
        transport=httpx.MockTransport(lambda r: httpx.Response(503, headers={"Retry-After": "5"})),
    )
    client = Client(HUB, http=http, sleep=sleep, clock=lambda: now[0], retries=50, retry_total_s=60)
    with pytest.raises(HubError):
        client.version()
    assert 50 <= sum(slept) <= 60 and len(slept) >= 10  # kept trying for the whole budget, no longer


def test_posts_carry_one_idempotency_key_per_call_and_wait_out_a_409_in_progress() -> None:
    """Issue 14 item 13: a retry reuses its call's key; a 409 with Retry-After (the first try is still
    being worked on) is waited out; a new call has a new key."""
    seen: list[str | None] = []
    script = [(409, {"Retry-After": "2"}), (200, {}), (200, {})]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("idempotency-key"))
        status, headers = script.pop(0)
        return httpx.Response(status, json={"changed": [], "skipped": []}, headers=headers)

    client, slept = make(handler, token="t")
    client.extend(["Task-" + "0" * 64], 5)
    client.add_repeats("net", 1)
    assert seen[0] and seen[0] == seen[1] and seen[2] and seen[2] != seen[0]
    assert slept == [2.0]
    client, _ = make(lambda r: httpx.Response(409, json={"detail": "not extendable"}), token="t")
    with pytest.raises(HubError):  # a plain conflict is an answer, not retried
        client.extend(["Task-" + "0" * 64], 5)

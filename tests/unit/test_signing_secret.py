"""The hub refuses a known or short signing secret unless it serves loopback only, in development
(issue 14, item 1): the check, the start-up refusal of a real `uvicorn api.main:app`, the image's
declared bind address, the request guard for a hub that serves other interfaces anyway, and the
access log that keeps signed links' tokens out."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from fepflow.settings import AuthSettings

STRONG = SecretStr("s" * 48)
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("environment", "secret", "host", "refused"),
    [
        ("development", "changeme", "127.0.0.1", False),
        ("development", "changeme", "::1", False),
        ("development", "changeme", "localhost", False),
        ("development", "changeme", "0.0.0.0", True),
        ("development", "short-but-random", "127.0.0.1", False),
        ("development", "short-but-random", "10.0.0.7", True),
        ("development", "s" * 48, "0.0.0.0", False),
        ("production", "s" * 48, "0.0.0.0", False),
    ],
)
def test_a_weak_secret_is_refused_unless_loopback_in_development(
    environment: str, secret: str, host: str, refused: bool
) -> None:
    from fepflow.settings import signing_secret_problem

    auth = AuthSettings(environment=environment, secret_key=SecretStr(secret))  # type: ignore[arg-type]
    problem = signing_secret_problem(auth, host)
    assert (problem is not None) is refused, problem
    if problem:
        assert "FEPFLOW_AUTH_SECRET_KEY" in problem and host in problem and "secrets.token_urlsafe" in problem


def test_the_defaults_are_refused_on_every_interface() -> None:
    from fepflow.settings import signing_secret_problem

    problem = signing_secret_problem(AuthSettings(), "0.0.0.0")
    assert problem is not None and "placeholder" in problem


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEPFLOW_")}
    return {**env, "FEPFLOW_MONGO_URL": "mongodb://127.0.0.1:9/", "FEPFLOW_MONGO_TIMEOUT_MS": "200", **extra}


def _serve(env: dict[str, str], host: str, timeout_s: float = 60.0) -> tuple[int | None, str]:
    """Start `uvicorn api.main:app` as the image does; its exit status (None: it served) and its log."""
    argv = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", host, "--port", "0"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    out, deadline = b"", time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            out += proc.stdout.read() or b""
            if proc.poll() is not None:
                return proc.returncode, (out + (proc.stdout.read() or b"")).decode(errors="replace")
            if b"Uvicorn running on" in out:
                return None, out.decode(errors="replace")
            time.sleep(0.1)
        return None, out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


def test_the_hub_refuses_to_start_on_all_interfaces_with_the_default_secret() -> None:
    code, log = _serve(_clean_env(FEPFLOW_API_HOST="0.0.0.0"), "0.0.0.0")
    assert code is not None and code != 0, f"the hub served with the default secret:\n{log}"
    assert "FEPFLOW_AUTH_SECRET_KEY" in log and "0.0.0.0" in log


def test_the_hub_starts_on_all_interfaces_with_a_strong_secret() -> None:
    env = _clean_env(FEPFLOW_API_HOST="0.0.0.0", FEPFLOW_AUTH_SECRET_KEY="k" * 48)
    code, log = _serve(env, "127.0.0.1")
    assert code is None, log


def test_the_image_declares_the_interface_it_serves() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^\s*FEPFLOW_API_HOST=0\.0\.0\.0\b", text, re.M), (
        "the image must declare its bind address"
    )
    cmd = re.findall(r"^CMD (.+)$", text, re.M)[-1]
    assert "$FEPFLOW_API_HOST" in cmd and "api.main:app" in cmd


def _call(weak: bool, server: tuple[str, int]) -> tuple[int, bytes]:
    import asyncio
    from types import SimpleNamespace

    from api.security import LoopbackGuard

    sent: list[dict[str, Any]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = SimpleNamespace(state=SimpleNamespace(weak_secret=weak))
    scope = {"type": "http", "method": "GET", "path": "/", "server": server, "headers": [], "app": app}
    asyncio.run(LoopbackGuard(inner)(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def test_a_weak_secret_serves_loopback_requests_only() -> None:
    assert _call(True, ("127.0.0.1", 8000)) == (200, b"ok")
    status, body = _call(True, ("192.168.1.20", 8000))
    assert status == 503 and b"FEPFLOW_AUTH_SECRET_KEY" in body
    assert _call(True, ("::ffff:10.1.2.3", 8000))[0] == 503
    assert _call(False, ("192.168.1.20", 8000)) == (200, b"ok")


def test_signed_links_are_redacted_from_the_access_log(caplog: pytest.LogCaptureFixture) -> None:
    import api.main  # noqa: F401  (importing the app installs nothing; starting it does)
    from api.security import install_access_log_filter, redact_query

    install_access_log_filter()
    install_access_log_filter()  # once only
    access = logging.getLogger("uvicorn.access")
    assert len([f for f in access.filters if type(f).__name__ == "RedactSignedLinks"]) == 1
    path = "/ga4gh/drs/v1/stream/abc?token=eyJhbGciOi.payload.sig&x=1"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5555", "GET", path, "1.1", 200)
    [record] = [r for r in caplog.records if r.name == "uvicorn.access"]
    message = record.getMessage()
    assert "eyJhbGciOi" not in message and "token=REDACTED" in message and "x=1" in message
    assert redact_query("/p?X-Amz-Signature=abc&X-Amz-Credential=k%2F1&keep=2") == (
        "/p?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&keep=2"
    )

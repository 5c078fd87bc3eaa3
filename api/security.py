"""Guards around the hub's keys: a weak signing secret serves loopback only, and signed links'
tokens never reach the access log.

The hub refuses to start with a weak secret unless it is declared to serve loopback in development
(:func:`fepflow.settings.signing_secret_problem`, checked in the app's lifespan). A hub started on
another interface anyway (``uvicorn --host 0.0.0.0`` without ``FEPFLOW_API_HOST``) is caught per
request: :class:`LoopbackGuard` answers 503 to every request that did not arrive on a loopback
address while the secret is weak.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

# query parameters that carry credentials: the hub's signed links, S3 presigned URLs
_SIGNED = re.compile(
    r"(?<=[?&])(token|access_token|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature)=[^&#\s\"]*",
    re.IGNORECASE,
)


def redact_query(text: str) -> str:
    """``text`` with the values of credential-carrying query parameters replaced by REDACTED."""
    return _SIGNED.sub(lambda m: f"{m.group(1)}=REDACTED", text)


class RedactSignedLinks(logging.Filter):
    """Rewrites uvicorn's access log records so that signed links' tokens are not written out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


ACCESS_LOGGER = "uvicorn.access"


def install_access_log_filter() -> None:
    """Add :class:`RedactSignedLinks` to uvicorn's access logger, once."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactSignedLinks) for f in logger.filters):
        logger.addFilter(RedactSignedLinks())


WEAK_SECRET_OFF_LOOPBACK = (
    "this hub signs tokens with a placeholder or short FEPFLOW_AUTH_SECRET_KEY and therefore only "
    "answers on a loopback address; set a random secret of at least 32 characters to serve others"
)


class LoopbackGuard:
    """ASGI middleware: while the app's ``state.weak_secret`` is true (set at start-up), requests
    not received on a loopback address get 503 and the reason."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        weak = scope["type"] == "http" and getattr(scope["app"].state, "weak_secret", False)
        if weak and _on_network_interface(scope.get("server")):
            await _refuse(send)
            return
        await self.app(scope, receive, send)


def _on_network_interface(server: Any) -> bool:
    """True when the request arrived on an IP address other machines may reach. A server sets
    ``server`` to its socket's address; a Unix socket has none and in-process clients (tests)
    name a host, not an address: neither is reachable from elsewhere."""
    if not server:
        return False
    try:
        address = ipaddress.ip_address(str(server[0]).strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return not (mapped or address).is_loopback


async def _refuse(send: Send) -> None:
    body = json.dumps({"detail": WEAK_SECRET_OFF_LOOPBACK}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})

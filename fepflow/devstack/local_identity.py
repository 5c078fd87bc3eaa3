"""The embedded stack's local identity: created on start, its token saved where the CLI looks.

``make dev`` / ``make demo`` then need no manual login. The identity's secret is random and never
stored (only its hash); a new token is written on every start.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from fepflow.hub.schemas import Token
from fepflow.hub.token_file import default_token_file, save_token
from fepflow.settings import AuthSettings
from fepflow.store.index import Index

LOCAL_IDENTITY = "local"
LOCAL_SCOPES = ["*-*-*"]  # one person's own machine: every scope
LOCAL_TTL = timedelta(days=7)


def ensure_local_identity(
    index: Index,
    auth: AuthSettings,
    hub_url: str,
    *,
    token_file: Path | None = None,
    identifier: str = LOCAL_IDENTITY,
    ttl: timedelta = LOCAL_TTL,
) -> Path:
    """Create (or reset) the local identity and save a token for it; return the token file."""
    if auth.environment == "production":
        raise RuntimeError("the local identity is for development stacks only")
    identity = index.identities.add(
        identifier, secrets.token_urlsafe(32), LOCAL_SCOPES, kind="local", replace=True
    )
    path = token_file or default_token_file()
    save_token(path, hub_url.rstrip("/"), Token.issue(identity.identifier, list(identity.scopes), auth, ttl))
    return path

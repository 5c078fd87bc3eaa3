"""Where a login is kept between commands: the hub's URL and its token, readable by its owner only."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fepflow.hub.schemas import Token


def default_token_file() -> Path:
    """``$FEPFLOW_TOKEN_FILE``, else ``$XDG_CONFIG_HOME/fepflow/token.json`` (``~/.config`` by default)."""
    explicit = os.environ.get("FEPFLOW_TOKEN_FILE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "fepflow" / "token.json"


def save_token(path: Path, hub_url: str, token: Token) -> None:
    """Write the token readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"hub_url": hub_url, **token.model_dump(mode="json")}, fh)
    os.replace(tmp, path)


def load_token(path: Path) -> tuple[str, Token] | None:
    """``(hub URL, token)`` saved in ``path``; None when there is none (or it cannot be read)."""
    try:
        raw = json.loads(path.read_text())
        return str(raw.pop("hub_url")), Token.model_validate(raw)
    except (OSError, ValueError, KeyError):
        return None

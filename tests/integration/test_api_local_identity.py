"""The embedded stack's local identity: its saved token works against the hub, in every scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import OTHER_SCOPE, SCOPE
from fastapi.testclient import TestClient
from pydantic import SecretStr

from fepflow.devstack.local_identity import ensure_local_identity
from fepflow.hub.client import Client
from fepflow.settings import AuthSettings
from fepflow.store.index import Index

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]


def test_local_token_is_saved_and_accepted(
    hub: TestClient, hub_index: Index, auth_config: AuthSettings, tmp_path: Path
) -> None:
    path = ensure_local_identity(hub_index, auth_config, "http://testserver/", token_file=tmp_path / "t.json")
    ensure_local_identity(hub_index, auth_config, "http://testserver", token_file=path)  # idempotent
    client = Client("http://testserver", http=hub, token_file=path)
    assert client.whoami()["identity"] == "local"
    for scope in (SCOPE, OTHER_SCOPE):
        assert client.submit_ligands(["CO"], scope=scope).scope == scope
    assert hub_index.db["identities"].count_documents({"_id": "local"}) == 1
    with pytest.raises(RuntimeError, match="development"):
        prod = AuthSettings(environment="production", secret_key=SecretStr("p" * 48))
        ensure_local_identity(hub_index, prod, "http://testserver", token_file=path)

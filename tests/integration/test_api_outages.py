"""Store outages (issue 14, item 9): MongoDB or S3 unreachable answers 503 with Retry-After, never a
500, and the client waits as told and succeeds once the store is back."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from api_support import SCOPE, bearer, complete_task, submit_smiles
from botocore.config import Config
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.drs import stream_path
from fepflow.devstack.processes import free_port
from fepflow.devstack.servers import mongo_process
from fepflow.hub.client import Client
from fepflow.settings import ApiSettings, AuthSettings
from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore, ObjectStoreUnavailable
from fepflow.store.objects.s3 import S3ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]


def test_mongodb_stopped_gives_503_and_the_client_retries_until_it_is_back(
    tmp_path: Path, hub_objects: ObjectStore, api_config: ApiSettings, auth_config: AuthSettings
) -> None:
    server, proc = mongo_process(tmp_path / "mongo")
    proc.start()
    index = Index.connect(server.url, "outage", timeout_ms=300)
    index.identities.add("alice", "alice-test-secret", ["*-*-*"])  # the hub checks a token's identity
    app = create_app(index=index, objects=hub_objects, api=api_config, auth_config=auth_config)
    try:
        with TestClient(app, raise_server_exceptions=False) as hub:
            assert hub.get("/api/v1/networks", headers=bearer([SCOPE])).status_code == 200
            proc.stop()
            down = hub.get("/api/v1/networks", headers=bearer([SCOPE]))
            assert down.status_code == 503, down.text
            assert int(down.headers["retry-after"]) >= 1
            assert "MongoDB" in down.json()["detail"] and "127.0.0.1" not in down.text
            assert submit_smiles(hub, {"methanol": "CO"}).status_code == 503

            slept: list[float] = []

            def sleep(seconds: float) -> None:  # the outage ends while the client waits
                slept.append(seconds)
                if not proc.running():
                    proc.start()

            token = bearer([SCOPE])["Authorization"].removeprefix("Bearer ")
            client = Client("http://testserver", http=hub, token=token, sleep=sleep)
            assert list(client.networks()) == []
            assert slept and slept[0] >= int(down.headers["retry-after"])
    finally:
        proc.stop()
        index.close()


def _s3_at_closed_port() -> S3ObjectStore:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1),
    )
    return S3ObjectStore(client, bucket="fepflow-outage", endpoint_url=endpoint)


def test_s3_unreachable_gives_503_with_retry_after(
    hub_index: Index, hub_objects: ObjectStore, api_config: ApiSettings, auth_config: AuthSettings
) -> None:
    with TestClient(
        create_app(index=hub_index, objects=hub_objects, api=api_config, auth_config=auth_config)
    ) as hub:
        task = submit_smiles(hub, {"methanol": "CO"}).json()["tasks"][0]
    made = complete_task(hub_index, hub_objects, task)
    app = create_app(index=hub_index, objects=_s3_at_closed_port(), api=api_config, auth_config=auth_config)
    with TestClient(app, raise_server_exceptions=False) as hub:
        answer = hub.get(stream_path("alice", made["blob"]["id"], auth_config))
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["retry-after"]) >= 1
        assert "object store" in answer.json()["msg"]


def test_s3_server_errors_count_as_unavailable() -> None:
    store = _s3_at_closed_port()
    for status, code in ((500, "InternalError"), (503, "SlowDown"), (503, "ServiceUnavailable")):
        error = ClientError(
            {"Error": {"Code": code, "Message": "try later"}, "ResponseMetadata": {"HTTPStatusCode": status}},
            "GetObject",
        )
        assert isinstance(store._translate(error, "get", "0" * 64), ObjectStoreUnavailable)
    with pytest.raises(ObjectStoreUnavailable, match="cannot reach"):
        store.get_bytes("0" * 64)

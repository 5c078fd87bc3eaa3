"""Presigned URLs are signed for the endpoint clients reach (FEPFLOW_OBJECTS_S3_PUBLIC_ENDPOINT_URL),
which differs from the services' own endpoint inside a compose or cluster network."""

from __future__ import annotations

import os

import httpx
import pytest

from fepflow.devstack.servers import S3Server
from fepflow.settings import ObjectStoreSettings
from fepflow.store.objects import open_object_store

pytestmark = pytest.mark.integration


def test_presigned_url_names_the_public_endpoint_and_serves_the_bytes(
    s3_server: S3Server, s3_bucket: str
) -> None:
    # the services reach the server as 127.0.0.1, clients as localhost: two hosts, one server
    public = f"http://localhost:{s3_server.port}"
    settings = ObjectStoreSettings(
        url=f"s3://{s3_bucket}/results",
        s3_endpoint_url=s3_server.endpoint_url,
        s3_public_endpoint_url=public,
        s3_access_key_id=s3_server.access_key_id,
        s3_secret_access_key=s3_server.secret_access_key,
    )
    store = open_object_store(settings)
    data = os.urandom(50_000)
    ref = store.put_bytes(data)
    url = store.presigned_url(ref.key, ttl_s=60)
    assert url is not None and url.startswith(public + "/")
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == data
    # the signature covers the host: the same URL sent to the internal name is refused
    assert httpx.get(url.replace(public, s3_server.endpoint_url, 1)).status_code == 403

"""The s3:// object store against a real S3 server (SeaweedFS) that enforces signatures and checksums."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import time
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from fepflow.devstack.servers import S3Server
from fepflow.settings import ObjectStoreSettings
from fepflow.store.objects import (
    ChecksumMismatch,
    ObjectNotFound,
    ObjectStoreAuthError,
    open_object_store,
)
from fepflow.store.objects.s3 import S3ObjectStore

pytestmark = pytest.mark.integration

MB = 1024 * 1024


def settings_for(
    server: S3Server, bucket: str, *, prefix: str = "bundles", **overrides: object
) -> ObjectStoreSettings:
    values: dict[str, object] = {
        "url": f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}",
        "s3_endpoint_url": server.endpoint_url,
        "s3_access_key_id": server.access_key_id,
        "s3_secret_access_key": server.secret_access_key,
        **overrides,
    }
    return ObjectStoreSettings(**values)  # type: ignore[arg-type]


def open_store(server: S3Server, bucket: str, **overrides: object) -> S3ObjectStore:
    store = open_object_store(settings_for(server, bucket, **overrides))
    assert isinstance(store, S3ObjectStore)
    return store


def raw_client(server: S3Server):  # type: ignore[no-untyped-def]
    return boto3.session.Session(
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        region_name="us-east-1",
    ).client("s3", endpoint_url=server.endpoint_url)


def test_round_trip(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    store = open_store(s3_server, s3_bucket)
    data = os.urandom(MB + 7)
    ref = store.put_bytes(data)
    key = hashlib.sha256(data).hexdigest()
    assert (ref.key, ref.sha256, ref.size_bytes) == (key, key, len(data))
    assert ref.uri == f"s3://{s3_bucket}/bundles/{key[:2]}/{key[2:4]}/{key}"
    assert store.url == f"s3://{s3_bucket}/bundles"
    assert store.get_bytes(key) == data
    assert store.stat(key) == ref
    assert store.exists(key)
    with store.open(key) as reader:
        chunks = list(reader)
        assert reader.verified
    assert b"".join(chunks) == data
    assert store.download(key, tmp_path / "out.bin").read_bytes() == data

    head = raw_client(s3_server).head_object(Bucket=s3_bucket, Key=f"bundles/{key[:2]}/{key[2:4]}/{key}")
    assert head["Metadata"]["sha256"] == key
    assert head["ContentType"] == "application/octet-stream"

    source = tmp_path / "src.bin"
    source.write_bytes(b"from a file")
    assert store.put_file(source).key == hashlib.sha256(b"from a file").hexdigest()
    assert store.put_stream(io.BytesIO(b"from a stream")).key == hashlib.sha256(b"from a stream").hexdigest()

    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(ObjectNotFound):
        store.get_bytes(key)
    with pytest.raises(ObjectNotFound):
        store.stat(key)


def test_put_of_an_existing_key_is_a_no_op(s3_server: S3Server, s3_bucket: str) -> None:
    store = open_store(s3_server, s3_bucket)
    first = store.put_bytes(b"idempotent")
    name = store.object_name(first.key)
    client = raw_client(s3_server)
    modified = client.head_object(Bucket=s3_bucket, Key=name)["LastModified"]
    time.sleep(1.1)  # LastModified has one-second resolution
    assert store.put_bytes(b"idempotent") == first
    assert store.put_stream(io.BytesIO(b"idempotent")) == first
    assert client.head_object(Bucket=s3_bucket, Key=name)["LastModified"] == modified, "object was rewritten"
    listed = client.list_objects_v2(Bucket=s3_bucket)
    assert [o["Key"] for o in listed["Contents"]] == [name]


def test_multipart_upload(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    store = open_store(s3_server, s3_bucket, multipart_threshold_mb=5)
    data = os.urandom(12 * MB + 5)
    source = tmp_path / "traj.nc"
    source.write_bytes(data)
    ref = store.put_file(source)
    assert ref.size_bytes == len(data) and ref.key == hashlib.sha256(data).hexdigest()

    head = raw_client(s3_server).head_object(
        Bucket=s3_bucket, Key=store.object_name(ref.key), ChecksumMode="ENABLED"
    )
    assert head["ETag"].strip('"').endswith("-3"), f"expected a 3-part upload, got ETag {head['ETag']}"
    assert head["ChecksumSHA256"].endswith("-3"), "each part should carry a SHA256 checksum"
    assert head["Metadata"]["sha256"] == ref.key

    with store.open(ref.key) as reader:
        digest = hashlib.sha256()
        for chunk in reader:
            digest.update(chunk)
        assert reader.verified
    assert digest.hexdigest() == ref.key
    assert store.put_stream(io.BytesIO(data)) == ref  # same bytes through the spooled path: no-op
    assert store.download(ref.key, tmp_path / "back.nc").read_bytes() == data


def test_presigned_url_serves_the_bytes(s3_server: S3Server, s3_bucket: str) -> None:
    store = open_store(s3_server, s3_bucket)
    data = os.urandom(200_000)
    ref = store.put_bytes(data)
    url = store.presigned_url(ref.key, ttl_s=60)
    assert url is not None and url.startswith(s3_server.endpoint_url)
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    default = store.presigned_url(ref.key)
    assert default is not None and "X-Amz-Expires=3600" in default
    with pytest.raises(ValueError):
        store.presigned_url(ref.key, ttl_s=0)


def test_expired_presigned_url_is_refused(s3_server: S3Server, s3_bucket: str) -> None:
    store = open_store(s3_server, s3_bucket)
    ref = store.put_bytes(b"short-lived")
    url = store.presigned_url(ref.key, ttl_s=1)
    assert url is not None
    time.sleep(2.5)
    response = httpx.get(url)
    assert response.status_code == 403
    assert b"short-lived" not in response.content


def test_tampered_presigned_url_is_refused(s3_server: S3Server, s3_bucket: str) -> None:
    store = open_store(s3_server, s3_bucket)
    ref = store.put_bytes(b"first")
    other = store.put_bytes(b"second")
    url = store.presigned_url(ref.key, ttl_s=60)
    assert url is not None
    response = httpx.get(url.replace(store.object_name(ref.key), store.object_name(other.key)))
    assert response.status_code == 403


def test_wrong_secret_key_is_an_auth_error(s3_server: S3Server, s3_bucket: str) -> None:
    wrong = "not-the-secret-9876543210"
    store = open_store(s3_server, s3_bucket, s3_secret_access_key=wrong)
    key = hashlib.sha256(b"x").hexdigest()
    for call in (lambda: store.put_bytes(b"x"), lambda: store.get_bytes(key), lambda: store.stat(key)):
        with pytest.raises(ObjectStoreAuthError) as caught:
            call()
        message = str(caught.value)
        assert s3_server.endpoint_url in message and s3_bucket in message
        assert wrong not in message and s3_server.secret_access_key not in message
    assert raw_client(s3_server).list_objects_v2(Bucket=s3_bucket).get("KeyCount", 0) == 0


def test_server_refuses_a_put_whose_checksum_does_not_match(s3_server: S3Server, s3_bucket: str) -> None:
    client = raw_client(s3_server)
    claimed = base64.b64encode(hashlib.sha256(b"what we meant to send").digest()).decode()
    with pytest.raises(ClientError) as caught:
        client.put_object(Bucket=s3_bucket, Key="raw/object", Body=b"what arrived", ChecksumSHA256=claimed)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError):
        client.head_object(Bucket=s3_bucket, Key="raw/object")


def test_object_overwritten_behind_our_back_fails_verification(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = open_store(s3_server, s3_bucket)
    data = os.urandom(3 * MB)
    ref = store.put_bytes(data)
    evil = bytearray(data)
    evil[MB] ^= 0xFF
    raw_client(s3_server).put_object(Bucket=s3_bucket, Key=store.object_name(ref.key), Body=bytes(evil))

    with pytest.raises(ChecksumMismatch) as caught:
        store.get_bytes(ref.key)
    assert caught.value.key == ref.key
    assert caught.value.actual == hashlib.sha256(evil).hexdigest()
    with pytest.raises(ChecksumMismatch), store.open(ref.key) as reader:
        for _ in reader:
            pass
    with pytest.raises(ChecksumMismatch):
        store.download(ref.key, tmp_path / "evil.bin")
    assert list(tmp_path.iterdir()) == []

    # the tampered object lacks our sha256 metadata, so a put of the true bytes rewrites (repairs) it
    assert store.put_bytes(data) == ref
    assert store.get_bytes(ref.key) == data


@pytest.mark.parametrize("size", [100_000, 12 * MB], ids=["single-part", "multipart"])
def test_same_size_wrong_bytes_with_our_metadata_are_not_trusted(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, size: int
) -> None:
    """Issue 14 item 11: an object of the right size and ``sha256`` metadata but other bytes is
    caught by verify (S3 checksum headers, else a read back) and rewritten by a put or a publish."""
    from fepflow.store.publish import upload_verified

    store = open_store(s3_server, s3_bucket, multipart_threshold_mb=5)
    data = os.urandom(size)
    source = tmp_path / "traj.nc"
    source.write_bytes(data)
    ref = store.put_file(source)
    assert store.verify(ref.key) == ref
    evil = bytearray(data)
    evil[size // 2] ^= 0xFF
    raw_client(s3_server).put_object(
        Bucket=s3_bucket, Key=store.object_name(ref.key), Body=bytes(evil), Metadata={"sha256": ref.key}
    )
    assert store.stat(ref.key).size_bytes == size  # size alone cannot tell
    with pytest.raises(ChecksumMismatch):
        store.verify(ref.key)
    assert upload_verified(store, source) == ref
    assert store.get_bytes(ref.key) == data
    assert store.verify(ref.key) == ref


def test_create_bucket_if_missing(s3_server: S3Server) -> None:
    bucket = f"fresh-{os.urandom(6).hex()}"
    with pytest.raises(ObjectNotFound):
        open_store(s3_server, bucket).stat(hashlib.sha256(b"").hexdigest())
    store = open_object_store(settings_for(s3_server, bucket, prefix=""), create_bucket_if_missing=True)
    ref = store.put_bytes(b"")
    assert ref.uri == f"s3://{bucket}/{ref.key[:2]}/{ref.key[2:4]}/{ref.key}"
    assert store.get_bytes(ref.key) == b""
    # a second call finds the bucket there
    open_object_store(settings_for(s3_server, bucket), create_bucket_if_missing=True)


@pytest.mark.parametrize("size", [100_000, 12 * MB], ids=["single-part", "multipart"])
def test_file_changed_between_hashing_and_upload_is_caught(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """Single part: the server refuses the body (ChecksumSHA256). Multipart: the composite checksum the
    server reports disagrees with the parts we hashed, and the object is removed again."""
    store = open_store(s3_server, s3_bucket, multipart_threshold_mb=5)
    source = tmp_path / "changing.bin"
    data = os.urandom(size)
    source.write_bytes(data)
    upload = S3ObjectStore._upload

    def change_then_upload(self: S3ObjectStore, *args: object) -> object:
        with open(source, "r+b") as fh:  # same size, one byte different
            fh.seek(size // 2)
            fh.write(bytes([data[size // 2] ^ 0xFF]))
        return upload(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(S3ObjectStore, "_upload", change_then_upload)
    with pytest.raises(ChecksumMismatch) as caught:
        store.put_file(source)
    key = hashlib.sha256(data).hexdigest()
    assert caught.value.key == key
    assert not store.exists(key)
